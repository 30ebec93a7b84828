"""A loyalty settings change applied to every account of the store at once, as a job (not at each next order).

Why: tiers are decided in refresh_account, i.e. when an event touches the account. A merchant who adds tiers or
lowers a threshold left every customer who already qualified without their tier until their next order (the
hardening issue: 4,957 points earned, no tier, and the widget said "0 points to Silver"). The same holds for
the expiry dates the accounts cache (`expiry.inactive_months`, `reminder_days`).

`schedule(session, store, before, after)` (a loyalty/settings.CHANGE_HOOKS entry, run by update_settings, so the
admin API and the command both reach it) enqueues `sweep_store(store_id)` after the commit when the change can
move a stored result: `tiers`, `enabled`, `expiry`. `flask loyalty tiers apply <store>` runs it by hand (a lost
enqueue).

The sweep walks the store's accounts in chunks of CHUNK, one transaction each under the store's lock (the
inbox's writers wait for a chunk, not the whole store). Per chunk, set-based: the tier figures in one GROUP BY
over the ledger and one read of (customer, currency, amounts) over the orders, decided in Python with the rules
of loyalty/tiers.py (its target_rank / rank_of), then one UPDATE executemany of the accounts, one INSERT of
the tier history and one upsert of the write-back outbox. Its rules are the docs' (docs/loyalty.md#vip-tiers):
- a higher target is taken now (a new tier, a lowered threshold): `upgrade`;
- a held tier that no longer exists is taken away (`removed`) and the target, if any, taken;
- nothing goes down otherwise: a raised threshold lowers a rolling tier at its window's end (roll_windows) and
  never a lifetime tier.
An account whose upgrade pays `reward_points` goes through refresh_accounts instead (the ledger's own path: the
reward row, then its cached sums recomputed from the rows): those are the only ones that need their rows.
The UPDATE names its customers (records/bulk.writes_customers), so their storefront copies are dropped after the
commit (loyalty/balance_invalidation.py); copies of the others were made under the old settings' fingerprint
and are not used once a process's store snapshot has the new ones (stores/cache.py, STORE_CACHE_SECONDS).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session, aliased

from app.extensions import db
from app.loyalty.balance import EARNED_KINDS, add_months
from app.loyalty.models import LoyaltyAccount, LoyaltyTierChange, LoyaltyWriteback, PointsLedger
from app.loyalty.refresh import refresh_accounts
from app.loyalty.settings import LoyaltySettings, get_settings
from app.loyalty.tiers import WINDOW_MONTHS, Metrics, history_floor, rank_of, target_rank
from app.platform.jobs import job_app
from app.platform.locks import lock_store
from app.platform.outbox import on_commit
from app.platform.queue import get_queue
from app.platform.sql import in_keys
from app.platform.types import utcnow
from app.records.bulk import writes_customers
from app.records.models import Customer, Order
from app.stores.models import Store

log = logging.getLogger(__name__)
CHUNK = 500
#: The settings whose change can leave an account's stored tier or expiry dates stale.
SWEPT = ("tiers", "enabled", "expiry")


def schedule(session: Session, store: Store, before: LoyaltySettings | None, after: LoyaltySettings) -> None:
    if before is None or any(before.raw.get(key) != after.raw.get(key) for key in SWEPT):
        store_id = store.id
        on_commit(session, lambda: enqueue(store_id))


def enqueue(store_id: int) -> None:
    try:
        get_queue().enqueue("app.loyalty.tier_sweep.sweep_store", store_id, job_timeout=3600)
    except Exception:  # noqa: BLE001  (Redis away: `flask loyalty tiers apply` or the next orders catch up)
        log.warning("loyalty.sweep_enqueue_failed", extra={"store_id": store_id})


def sweep_store(store_id: int) -> dict[str, int]:
    """The job: every account of the store, CHUNK at a time (idempotent: a second run changes nothing)."""
    with job_app().app_context():
        try:
            store = db.session.get(Store, store_id)
            if store is None or store.status != "active":
                return {}
            return sweep(db.session, store, utcnow())
        finally:
            db.session.remove()


def account_count(session: Session, store_id: int) -> int:
    """How many accounts a sweep walks (the progress bar's total)."""
    stmt = select(func.count()).select_from(LoyaltyAccount).where(LoyaltyAccount.store_id == store_id)
    return int(session.scalar(stmt) or 0)


def sweep(
    session: Session, store: Store, now: datetime, on_chunk: Callable[[int], object] | None = None
) -> dict[str, int]:
    """Every account, CHUNK at a time, each chunk committed; `on_chunk(n)` after each (progress)."""
    totals: Counter[str] = Counter()
    after = 0
    while True:
        lock_store(session, store.id)
        settings = get_settings(store)  # read under the lock: a later change enqueues its own sweep
        stmt = select(LoyaltyAccount.customer_id).where(
            LoyaltyAccount.store_id == store.id, LoyaltyAccount.customer_id > after
        )
        ids = list(session.scalars(stmt.order_by(LoyaltyAccount.customer_id).limit(CHUNK)))
        if ids:
            totals.update(_chunk(session, store, settings, ids, now))
        session.commit()
        if on_chunk is not None and ids:
            on_chunk(len(ids))
        if len(ids) < CHUNK:
            break
        after = ids[-1]
    log.info("loyalty.sweep_done", extra={"store_id": store.id, **totals})
    return dict(totals)


def _points(
    session: Session, store: Store, ids: Sequence[int], since: datetime, now: datetime, floor: datetime | None
) -> dict[int, tuple]:
    """(lifetime, rolling) points earned per customer: earned rows net of reversals, an order's rows dated by
    its earn row (tiers.points_earned, as one GROUP BY)."""
    row, earn = aliased(PointsLedger), aliased(PointsLedger)
    when = func.coalesce(earn.created_at, row.created_at)
    stmt = (
        select(
            row.customer_id,
            func.sum(row.points),
            func.sum(case((and_(when >= since, when <= now), row.points), else_=0)),
        )
        .outerjoin(
            earn,
            and_(
                earn.store_id == row.store_id,
                earn.customer_id == row.customer_id,
                earn.source_key == literal("order:") + row.order_platform_id + literal(":earn"),
            ),
        )
        .where(row.store_id == store.id, in_keys(session, row.customer_id, ids), row.kind.in_(EARNED_KINDS))
        .group_by(row.customer_id)
    )
    if floor is not None:  # past orders' rows left out (tiers.points_earned: their earn rows are marked imported)
        stmt = stmt.outerjoin(
            Order, and_(Order.store_id == row.store_id, Order.platform_id == row.order_platform_id)
        ).where(or_(Order.placed_at.is_(None), Order.placed_at >= floor))
    return {cid: (Decimal(total or 0), Decimal(rolling or 0)) for cid, total, rolling in session.execute(stmt)}


def _spent(
    session: Session, store: Store, ids: Sequence[int], since: datetime, now: datetime, floor: datetime | None
) -> dict[int, tuple]:
    """(lifetime, rolling) net spend in the headline currency (tiers.amount_spent; Money is text on SQLite, so
    the sums are made here from one read of plain tuples)."""
    stmt = select(Order.customer_id, Order.currency, Order.total_price, Order.refunded_amount, Order.placed_at).where(
        Order.store_id == store.id,
        in_keys(session, Order.customer_id, ids),
        Order.deleted_at.is_(None),
        Order.cancelled_at.is_(None),
        Order.paid_at.is_not(None),
    )
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    sums: dict[tuple[int, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for cid, currency, total, refunded, placed_at in session.execute(stmt):
        counts[cid][currency] += 1
        if floor is not None and placed_at < floor:
            continue  # tiers without past spend (tiers.history_floor); still counted for the headline currency
        net = Decimal(total) - Decimal(refunded or 0)
        sums[(cid, currency)][0] += net
        if since <= placed_at <= now:
            sums[(cid, currency)][1] += net
    out = {}
    for cid, per in counts.items():
        headline = store.currency if store.currency and store.currency in per else min(per, key=lambda c: (-per[c], c))
        out[cid] = tuple(sums[(cid, headline)])
    return out


def figures(session: Session, store: Store, settings: LoyaltySettings, ids: Sequence[int], now: datetime):
    """tiers.metrics for many customers: {customer id: {(basis, window): figure}}."""
    since = add_months(now, -12)
    pairs = {(t.basis, t.window) for t in settings.tiers}
    floor = history_floor(session, store, None)
    points = _points(session, store, ids, since, now, floor) if any(b == "points_earned" for b, _ in pairs) else {}
    spent = _spent(session, store, ids, since, now, floor) if any(b == "amount_spent" for b, _ in pairs) else {}
    zero = (Decimal(0), Decimal(0))
    out: dict[int, Metrics] = {}
    for cid in ids:
        mine: Metrics = {}
        for basis, window in pairs:
            lifetime, rolling = (points if basis == "points_earned" else spent).get(cid, zero)
            mine[(basis, window)] = rolling if WINDOW_MONTHS[window] else lifetime
        out[cid] = mine
    return out


def _plain(figs: Metrics) -> dict[str, str]:
    return {f"{basis}:{window}": format(value.normalize(), "f") for (basis, window), value in sorted(figs.items())}


def _chunk(session: Session, store: Store, settings: LoyaltySettings, ids: Sequence[int], now: datetime):
    accounts = session.execute(
        select(
            LoyaltyAccount.customer_id,
            LoyaltyAccount.tier,
            LoyaltyAccount.tier_since,
            LoyaltyAccount.tier_expires_at,
            LoyaltyAccount.last_activity_at,
            LoyaltyAccount.spendable,
            LoyaltyAccount.expires_at,
            LoyaltyAccount.reminder_due_at,
            Customer.platform_id,
        )
        .join(Customer, Customer.id == LoyaltyAccount.customer_id)
        .where(LoyaltyAccount.store_id == store.id, in_keys(session, LoyaltyAccount.customer_id, ids))
    ).all()
    figs = figures(session, store, settings, ids, now) if settings.enabled and settings.tiers else {}
    updates: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    marked: list[int] = []
    rewarded: set[int] = set()
    for a in accounts:
        new = {"tier": a.tier, "tier_since": a.tier_since, "tier_expires_at": a.tier_expires_at}
        mine = figs.get(a.customer_id, {})
        if settings.enabled:  # refresh_account decides tiers only while the programme is on
            current = rank_of(settings, a.tier)
            if a.tier is not None and current is None:  # the merchant deleted (or renamed) the tier
                history.append(_change(store, a.customer_id, a.tier, None, "removed", mine, now))
                new = {"tier": None, "tier_since": None, "tier_expires_at": None}
            target = target_rank(settings, mine)
            if target is not None and (current is None or target > current):
                first = 0 if current is None else current + 1
                if any(settings.tiers[r].reward_points for r in range(first, target + 1)):
                    rewarded.add(a.customer_id)  # refresh_accounts appends the reward and takes the tier
                    new = {"tier": a.tier, "tier_since": a.tier_since, "tier_expires_at": a.tier_expires_at}
                    history = [h for h in history if h["customer_id"] != a.customer_id]
                else:
                    tier = settings.tiers[target]
                    months = WINDOW_MONTHS[tier.window]
                    history.append(_change(store, a.customer_id, new["tier"], tier.name, "upgrade", mine, now))
                    new = {
                        "tier": tier.name,
                        "tier_since": now,
                        "tier_expires_at": add_months(now, months) if months else None,
                    }
        expires = (
            add_months(a.last_activity_at, settings.inactive_months)
            if settings.inactive_months and a.last_activity_at is not None and a.spendable > 0
            else None
        )
        reminder = expires - timedelta(days=settings.reminder_days) if expires and settings.reminder_days else None
        new |= {"expires_at": expires, "reminder_due_at": reminder}
        if tuple(new.values()) != (a.tier, a.tier_since, a.tier_expires_at, a.expires_at, a.reminder_due_at):
            updates.append({"b_customer_id": a.customer_id, **{f"b_{k}": v for k, v in new.items()}})
            if new["tier"] != a.tier and a.platform_id is not None:
                marked.append(a.customer_id)  # the store's copy of the tier is behind (guests have none)
    _write(session, store, updates, history, marked, now)
    if rewarded:
        refresh_accounts(session, store, rewarded, now)
    return {"accounts": len(accounts), "updated": len(updates), "tier_changes": len(history), "rewarded": len(rewarded)}


def _change(store: Store, customer_id: int, from_tier, to_tier, reason: str, figs: Metrics, now: datetime) -> dict:
    return {"store_id": store.id, "customer_id": customer_id, "from_tier": from_tier, "to_tier": to_tier,
            "reason": reason, "metrics": _plain(figs), "created_at": now}  # fmt: skip


def _write(session: Session, store: Store, updates: list, history: list, marked: list[int], now: datetime) -> None:
    if updates:
        table = cast(Table, LoyaltyAccount.__table__)
        stmt = (
            update(table)
            .where(table.c.store_id == store.id, table.c.customer_id == bindparam("b_customer_id"))
            .values({name: bindparam(f"b_{name}") for name in ACCOUNT_COLUMNS})
            .execution_options(**writes_customers(store.id, [u["b_customer_id"] for u in updates]))
        )
        session.execute(stmt, updates)
    if history:
        session.execute(insert(cast(Table, LoyaltyTierChange.__table__)), history)
    if marked:
        _mark_dirty(session, store, marked, now)


ACCOUNT_COLUMNS = ("tier", "tier_since", "tier_expires_at", "expires_at", "reminder_due_at")


def _mark_dirty(session: Session, store: Store, customer_ids: list[int], now: datetime) -> None:
    """writeback.mark_dirty for many: one upsert (a new row, or generation + 1 and due at once)."""
    table = cast(Table, LoyaltyWriteback.__table__)
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    rows = [{"store_id": store.id, "customer_id": cid, "dirty_since": now, "generation": 1, "attempts": 0}
            for cid in customer_ids]  # fmt: skip
    stmt = upsert(table).on_conflict_do_update(
        index_elements=["store_id", "customer_id"],
        set_={"generation": table.c.generation + 1, "next_attempt_at": None},
    )
    session.execute(stmt, rows)
