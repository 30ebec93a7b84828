"""VIP tiers: who holds which tier, decided from the ledger and the orders, never from the balance.

Settings (`tiers`, validated in loyalty_settings): a list, lowest tier first; each tier has a `threshold` on
a `basis` over a `window`, an earn `multiplier` and an optional `reward_points`. A customer's *target* tier
is the last one in the list whose threshold they meet (a list order, not a threshold order, because tiers
may mix bases).
- basis `points_earned`: the sum of earn/action rows net of the reversals of those earns (an order's rows
  count at the time of its earn row, so a refund never moves an old earn into the window); tier rewards,
  manual adjustments, redemptions and expiry do not count. `amount_spent`: paid orders that stand (not
  cancelled or deleted), total minus refunds, in the customer's headline currency (the store's currency
  when they bought in it, else the one they used most: the rule of customers.refresh_totals).
- window `lifetime` (since the first order) or `rolling_12m` (the 12 months up to now).
Decisions (apply_tiers, called from ledger.refresh_account, i.e. on every event that touches the account,
and by the scheduler when a window ends):
- a higher target is taken at once: tier_since = now; tier_expires_at = now + 12 months for a rolling tier
  (the end of its qualifying window), None for a lifetime tier;
- otherwise nothing changes until tier_expires_at; then the tier is renewed for the next window if the
  customer still qualifies, else it drops to the target (or none). A lifetime tier never goes down;
- reaching a tier (each tier passed on the way up) awards its reward_points once per period:
  `tier:<tier>:<customer>:<period>`, period = "lifetime" or the date the rolling tier was reached;
- the earn multiplier is read by loyalty_orders.earn_rule from LoyaltyAccount.tier when an order earns and
  recorded on the row, so a reversal uses the multiplier of the earn whatever the tier is by then.
Every change is a LoyaltyTierChange row (history) with the figures it was decided on.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.ledger import EARNED_KINDS, add_months, append, refresh_account
from app.loyalty.models import LoyaltyAccount, LoyaltyTierChange, PointsLedger
from app.loyalty.settings import LoyaltySettings, Tier
from app.records.history import policy
from app.records.models import Customer, Order
from app.stores.models import Store

log = logging.getLogger(__name__)

WINDOW_MONTHS = {"lifetime": None, "rolling_12m": 12}

Metrics = dict[tuple[str, str], Decimal]


def _since(window: str, now: datetime) -> datetime | None:
    months = WINDOW_MONTHS[window]
    return add_months(now, -months) if months else None


def points_earned(
    rows: list[PointsLedger], since: datetime | None, until: datetime | None = None, *, past: bool = True
) -> int:
    """Earned points net of their reversals in [since, until], an order's rows dated by its earn row; without
    the rows of imported past orders when `past` is False (the merchant's choice, docs/history-import.md)."""
    earns = [r for r in rows if r.source_key == f"order:{r.order_platform_id}:earn"]
    earned_at = {r.order_platform_id: r.created_at for r in earns}
    imported = set() if past else {r.order_platform_id for r in earns if (r.rule or {}).get("imported")}
    total = 0
    for row in rows:
        if row.kind not in EARNED_KINDS or (row.order_platform_id and row.order_platform_id in imported):
            continue
        when = earned_at.get(row.order_platform_id, row.created_at) if row.order_platform_id else row.created_at
        if (since is None or when >= since) and (until is None or when <= until):
            total += row.points
    return total


def amount_spent(
    session: Session, store: Store, customer_id: int, since: datetime | None, now: datetime
) -> tuple[Decimal, str | None]:
    """Net spend of paid, standing orders in the customer's headline currency, placed since `since` (and not
    before the history cut-off when the merchant chose tiers without past spend)."""
    since = history_floor(session, store, since)
    orders = session.execute(
        select(Order.currency, Order.total_price, Order.refunded_amount, Order.placed_at).where(
            Order.store_id == store.id,
            Order.customer_id == customer_id,
            Order.deleted_at.is_(None),
            Order.cancelled_at.is_(None),
            Order.paid_at.is_not(None),
        )
    ).all()
    if not orders:
        return Decimal("0"), store.currency
    counts = Counter(o.currency for o in orders)
    if store.currency and store.currency in counts:
        currency = store.currency
    else:
        currency = min(counts, key=lambda c: (-counts[c], c))
    spent: defaultdict[str, Decimal] = defaultdict(Decimal)
    for o in orders:
        if since is None or since <= o.placed_at <= now:
            spent[o.currency] += Decimal(o.total_price) - Decimal(o.refunded_amount or 0)
    return spent[currency], currency


def metrics(
    session: Session, store: Store, customer_id: int, rows: list[PointsLedger], settings: LoyaltySettings, now: datetime
) -> Metrics:
    """The figure each configured (basis, window) pair needs, computed once."""
    out: Metrics = {}
    for basis, window in {(t.basis, t.window) for t in settings.tiers}:
        since = _since(window, now)
        if basis == "points_earned":
            past = history_floor(session, store, None) is None
            out[(basis, window)] = Decimal(points_earned(rows, since, now if since else None, past=past))
        else:
            out[(basis, window)] = amount_spent(session, store, customer_id, since, now)[0]
    return out


def history_floor(session: Session, store: Store, since: datetime | None) -> datetime | None:
    """`since`, raised to the store's history cut-off when past orders do not count towards tiers."""
    found = policy(session, store.id)
    if found is None or found.tiers_from_past:
        return since
    return found.cutoff_at if since is None else max(since, found.cutoff_at)


def qualifies(tier: Tier, figures: Metrics) -> bool:
    return figures.get((tier.basis, tier.window), Decimal("0")) >= tier.threshold


def target_rank(settings: LoyaltySettings, figures: Metrics) -> int | None:
    ranks = [i for i, tier in enumerate(settings.tiers) if qualifies(tier, figures)]
    return max(ranks) if ranks else None


def rank_of(settings: LoyaltySettings, name: str | None) -> int | None:
    return next((i for i, t in enumerate(settings.tiers) if t.name == name), None)


def _expiry(tier: Tier, start: datetime) -> datetime | None:
    months = WINDOW_MONTHS[tier.window]
    return add_months(start, months) if months else None


def _plain(figures: Metrics) -> dict[str, str]:
    return {f"{basis}:{window}": format(value.normalize(), "f") for (basis, window), value in sorted(figures.items())}


def apply_tiers(
    session: Session,
    store: Store,
    customer: Customer,
    account: LoyaltyAccount,
    rows: list[PointsLedger],
    settings: LoyaltySettings,
    now: datetime,
) -> bool:
    """Decide the account's tier as of `now` (see the module docstring); True when a reward row was appended."""
    if not settings.tiers and account.tier is None:
        return False
    figures = metrics(session, store, customer.id, rows, settings, now)
    target = target_rank(settings, figures)
    current = rank_of(settings, account.tier)
    rewarded = False
    if target is not None and (current is None or target > current):
        first = 0 if current is None else current + 1
        for rank in range(first, target + 1):
            tier = settings.tiers[rank]
            if tier.reward_points and qualifies(tier, figures):
                rewarded |= _reward(session, store, customer, tier, now)
        _change(session, store, account, settings.tiers[target], "upgrade", figures, now, start=now)
    elif account.tier is not None and current is None:
        _change(session, store, account, None, "removed", figures, now, start=now)  # the merchant deleted the tier
    elif current is not None and account.tier_expires_at is not None and account.tier_expires_at <= now:
        if target == current:
            # The next window starts where the last ended, however late the scheduler runs.
            tier = settings.tiers[current]
            expires: datetime | None = account.tier_expires_at
            while expires is not None and expires <= now:
                expires = _expiry(tier, expires)
            _record(session, store, account, account.tier, "renewed", figures, now)
            account.tier_expires_at = expires
        else:
            lower = None if target is None else settings.tiers[target]
            _change(session, store, account, lower, "downgrade", figures, now, start=account.tier_expires_at)
    return rewarded


def _reward(session: Session, store: Store, customer: Customer, tier: Tier, now: datetime) -> bool:
    period = "lifetime" if tier.window == "lifetime" else now.date().isoformat()
    row = append(
        session,
        store,
        customer_id=customer.id,
        source_key=f"tier:{tier.name}:{customer.id}:{period}",
        kind="tier_reward",
        points=tier.reward_points,
        now=now,
        rule={"tier": tier.name, "period": period, "points": str(tier.reward_points)},
        available_at=now,
    )
    return row is not None


def _change(
    session: Session,
    store: Store,
    account: LoyaltyAccount,
    tier: Tier | None,
    reason: str,
    figures: Metrics,
    now: datetime,
    *,
    start: datetime,
) -> None:
    _record(session, store, account, None if tier is None else tier.name, reason, figures, now)
    account.tier = None if tier is None else tier.name
    account.tier_since = None if tier is None else start
    account.tier_expires_at = None if tier is None else _expiry(tier, start)
    log.info("loyalty.tier_changed", extra={"store_id": store.id, "customer_id": account.customer_id, "reason": reason})


def _record(
    session: Session, store: Store, account: LoyaltyAccount, to_tier: str | None, reason: str, figures: Metrics, now
) -> None:
    session.add(
        LoyaltyTierChange(
            store_id=store.id,
            customer_id=account.customer_id,
            from_tier=account.tier,
            to_tier=to_tier,
            reason=reason,
            metrics=_plain(figures),
            created_at=now,
        )
    )


def roll_windows(session: Session, store: Store, now: datetime) -> int:
    """Scheduler step: re-decide accounts whose qualifying window has ended (indexed on tier_expires_at)."""
    stmt = select(LoyaltyAccount.customer_id).where(
        LoyaltyAccount.store_id == store.id, LoyaltyAccount.tier_expires_at <= now
    )
    customer_ids = list(session.scalars(stmt.order_by(LoyaltyAccount.customer_id)))
    for customer_id in customer_ids:
        refresh_account(session, store, customer_id, now)
    return len(customer_ids)


def progress(settings: LoyaltySettings, tier: str | None, figures: Metrics) -> dict | None:
    """The next tier above `tier` and how far the customer is from it (None at the top)."""
    current = rank_of(settings, tier)
    start = 0 if current is None else current + 1
    if start >= len(settings.tiers):
        return None
    nxt = settings.tiers[start]
    have = figures.get((nxt.basis, nxt.window), Decimal("0"))
    return {
        "tier": nxt.name,
        "basis": nxt.basis,
        "window": nxt.window,
        "threshold": format(nxt.threshold.normalize(), "f"),
        "current": format(have.normalize(), "f"),
        "remaining": format(max(Decimal("0"), nxt.threshold - have).normalize(), "f"),
    }
