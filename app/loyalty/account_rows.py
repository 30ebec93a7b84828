"""Loyalty accounts refreshed by statements (PostgreSQL): refresh.refresh_accounts' result without its ORM objects.

Used by loyalty/imported.py for the accounts a history import's chunk wrote, and by the follower for the owners of
the past orders whose points loyalty/imported_orders.py wrote. Per chunk of accounts:
1. the accounts held (their spendable points and tier), the customers (a guest's points are held, a merged guest
   is gone) and the ledger rows are read by three queries, the rows as plain tuples;
2. an account whose refresh decides a tier (the programme has tiers, or the account holds one that would be
   removed) is refreshed by refresh.refresh_accounts, through the ORM as before: apply_tiers may append a reward
   row and records the change;
3. for the others the sums are balance.compute on the rows (the same function, so the same rules) and the
   reminder refresh._set_reminder's, written by one `INSERT ... SELECT FROM unnest(...) ON CONFLICT (store_id,
   customer_id) DO UPDATE`; the tier is not touched (no tier rule applies to them);
4. the store's copy is marked behind (writeback.mark_dirty's rule: an account that is not a guest whose spendable
   points changed, a new account always) by one `INSERT ... ON CONFLICT DO UPDATE` that adds a generation.
Both statements name their customers (records/bulk.writes_customers), so the storefront's cached balances of
those customers are dropped at the commit, as after the ORM's flush.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, column, func, literal, null, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session

from app.loyalty.balance import compute
from app.loyalty.models import LoyaltyAccount, LoyaltyWriteback, PointsLedger
from app.loyalty.refresh import TierRule, refresh_accounts
from app.loyalty.settings import get_settings
from app.platform.sql import chunks, in_keys
from app.records.bulk import writes_customers
from app.records.models import Customer
from app.stores.models import Store

#: Accounts per round of reads and statements: every statement binds one array per column, whatever the count.
CHUNK = 5000

_SUMS = ("balance", "pending", "spendable", "held", "lifetime_earned")
_TIMES = ("last_activity_at", "expires_at", "reminder_due_at")
_WHEN = DateTime(timezone=True)


def refresh_set_based(session: Session, store: Store, customer_ids: set[int], now: datetime) -> None:
    """refresh.refresh_accounts(session, store, customer_ids, now), by statements where no tier is decided."""
    settings = get_settings(store)
    tiers_decided = settings.enabled and TierRule.apply is not None
    for chunk in chunks(sorted(customer_ids), CHUNK):
        held = _held(session, store.id, chunk)
        by_orm = {c for c in chunk if tiers_decided and (settings.tiers or held.get(c, (0, None))[1] is not None)}
        if by_orm:
            refresh_accounts(session, store, by_orm, now)
        rest = [c for c in chunk if c not in by_orm]
        if rest:
            _refresh(session, store, rest, held, now)


def _held(session: Session, store_id: int, chunk: Any) -> dict[int, tuple[int, str | None]]:
    stmt = select(LoyaltyAccount.customer_id, LoyaltyAccount.spendable, LoyaltyAccount.tier).where(
        LoyaltyAccount.store_id == store_id, in_keys(session, LoyaltyAccount.customer_id, chunk)
    )
    return {row.customer_id: (row.spendable, row.tier) for row in session.execute(stmt)}


def _refresh(
    session: Session, store: Store, ids: list[int], held: dict[int, tuple[int, str | None]], now: datetime
) -> None:
    settings = get_settings(store)
    session.flush()  # the ORM's pending rows (a tier reward above) are counted in the reads below
    guests = {
        row.id: row.platform_id is None
        for row in session.execute(
            select(Customer.id, Customer.platform_id).where(
                Customer.store_id == store.id, in_keys(session, Customer.id, ids)
            )
        )
    }
    ledger = PointsLedger.__table__.c
    rows: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(
        select(ledger.customer_id, ledger.order_platform_id, ledger.kind, ledger.points, ledger.source_key)
        .add_columns(ledger.available_at, ledger.created_at)
        .where(ledger.store_id == store.id, in_keys(session, ledger.customer_id, ids))
        .order_by(ledger.id)
    ):
        rows[row.customer_id].append(row)
    values: dict[str, list[Any]] = defaultdict(list)
    dirty: list[int] = []
    for customer_id in sorted(guests):  # a merged guest is gone: not found, nothing to refresh
        guest = guests[customer_id]
        result = compute(rows[customer_id], now, guest=guest, settings=settings)
        reminder = None
        if result.expires_at is not None and settings.reminder_days:
            reminder = result.expires_at - timedelta(days=settings.reminder_days)
        for name, value in (
            ("customer_id", customer_id),
            *((name, getattr(result, "total" if name == "balance" else name)) for name in _SUMS),
            ("last_activity_at", result.last_activity_at),
            ("expires_at", result.expires_at),
            ("reminder_due_at", reminder),
        ):
            values[name].append(value)
        before = held.get(customer_id)
        if not guest and (before is None or before[0] != result.spendable):
            dirty.append(customer_id)
    if values:
        _write_accounts(session, store, values, now)
    if dirty:
        _mark_dirty(session, store, dirty, now)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, (LoyaltyAccount, LoyaltyWriteback)) and obj.store_id == store.id:
            session.expire(obj)  # written behind the ORM's back


def _write_accounts(session: Session, store: Store, values: dict[str, list[Any]], now: datetime) -> None:
    """One INSERT ... ON CONFLICT DO UPDATE for the accounts. Their sums are sent once per distinct set
    (`unnest(...) WITH ORDINALITY`) and each account names its set: an import's new accounts share one or two
    (no points, or the signup reward), and psycopg dumps every element of an array in Python (ten arrays of
    5,000 were a third of the statement's time, bench/README.md)."""
    names = [*_SUMS, *_TIMES]
    distinct: dict[tuple[Any, ...], int] = {}
    groups = [
        distinct.setdefault(tuple(values[n][i] for n in names), len(distinct) + 1)
        for i in range(len(values["customer_id"]))
    ]
    types: dict[str, Any] = {**dict.fromkeys(_SUMS, Integer), **dict.fromkeys(_TIMES, _WHEN)}
    sums = (
        func.unnest(*(literal([row[k] for row in distinct], ARRAY(types[n])) for k, n in enumerate(names)))
        .table_valued(*(column(n, types[n]) for n in names), with_ordinality="n")
        .render_derived()
    )
    given = unnest({"customer_id": values["customer_id"], "n": groups}, {"customer_id": BigInteger, "n": BigInteger})
    rows = (
        select(literal(store.id), given.c.customer_id, *(sums.c[n] for n in names))
        .add_columns(literal(now, _WHEN), literal(now, _WHEN), null())
        .select_from(given.join(sums, sums.c.n == given.c.n))
        .order_by(given.c.customer_id)  # the rows' ids drawn in the accounts' order, as before
    )
    stmt = insert(LoyaltyAccount).from_select(
        ["store_id", "customer_id", *names, "refreshed_at", "updated_at", "tier"], rows
    )
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["store_id", "customer_id"],
        set_={n: excluded[n] for n in (*names, "refreshed_at", "updated_at")},
    )
    session.execute(stmt, execution_options=writes_customers(store.id, values["customer_id"]))


def _mark_dirty(session: Session, store: Store, ids: list[int], now: datetime) -> None:
    given = unnest({"customer_id": ids}, {"customer_id": BigInteger})
    rows = select(literal(store.id), given.c.customer_id, literal(now, _WHEN), literal(1), literal(0))
    stmt = insert(LoyaltyWriteback).from_select(
        ["store_id", "customer_id", "dirty_since", "generation", "attempts"], rows
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["store_id", "customer_id"],
        set_={"generation": LoyaltyWriteback.__table__.c.generation + 1, "next_attempt_at": null()},
    )
    session.execute(stmt, execution_options=writes_customers(store.id, ids))


def unnest(values: dict[str, list[Any]], types: dict[str, Any]) -> Any:
    """`unnest(:a, :b, ...) AS t(a, b, ...)`: one bound array per column, as many rows as the lists hold."""
    names = list(values)
    arrays = [literal(values[n], ARRAY(types[n])) for n in names]
    return func.unnest(*arrays).table_valued(*(column(n, types[n]) for n in names)).render_derived()
