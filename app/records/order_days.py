"""What the Overview reads instead of the raw orders: each order's place in its customer's chain, and a per-store
daily rollup, both kept by the records as orders are written. docs/dashboard.md ("Speed").

- `orders.prev_placed_at` / `next_placed_at`: the placing time of the customer's previous / next standing order
  (not cancelled, not deleted; same instant: lower id first), NULL for the first / last one, for an order that does
  not stand or has no customer. "Returning" is `prev_placed_at IS NOT NULL`, and a period's buyers and
  repeat buyers are counts over the period's orders, with no probe per order (app/dashboard/orders_figures.py).
- `order_days`: per (store, UTC day of placing, currency) the standing orders, the returning ones and their
  revenue (total minus refunds) in units of 1/10000 (the Money column's scale), so sums are exact integers.

How they stay exact: whatever changes an input marks what it affects in the session, and `settle` recomputes
exactly that from the rows, set-based, just before the transaction commits (a `before_commit` hook: one place for
the single path, the inbox batch, the history import and the commands alike):
- the customers whose totals are recomputed (customers.refresh_totals, order_derived.refresh_deferred_customers:
  every order write, deletion and merge names the customers it touches, the order's previous one included)
  get their chains recomputed with one window query (lag/lead), written by one UPDATE; each order whose links
  changed marks its day;
- the orders derived (order_derived.derive_order: every snapshot, refund and parcel, both paths) and deleted mark
  their own day;
- each marked day is recounted from the orders of that day (an index range of the day's orders).
`rebuild` recomputes a whole store (the migration, tests, `flask stores rebuild-rollup`); the end of a history
import's orders' phase whose past chunks left it does the same in parts (`relink` per batch of customers, then
`recount_store`: inbox/history_bulk_settle.py); the tests compare both with what the writes left
(tests/records/test_order_days.py, tests/inbox/test_history_bulk_chains.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Integer, and_, case, cast, delete, event, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from app.platform.days import day_of, day_ranges, midnight
from app.platform.sql import chunks, in_keys
from app.records.bulk import writes_customers
from app.records.models import Order, OrderDay

_KEY = "records.order_days"  # session.info: {store id: (days, customer ids)}
SCALE = 10000

# These statements write only the orders' previous/next placing times, which no balance answer reads: they name no
# customer for the storefront's balance copies (records/bulk.py), so the copies of everyone are not dropped.
NO_BALANCE = writes_customers(0, ())


def _pending(session: Session, store_id: int) -> tuple[set[date], set[int]]:
    return session.info.setdefault(_KEY, {}).setdefault(store_id, (set(), set()))


def mark_days(session: Session, store_id: int, *moments: datetime | None) -> None:
    _pending(session, store_id)[0].update(d for d in map(day_of, moments) if d is not None)


def mark_customers(session: Session, store_id: int, customer_ids: Iterable[int | None]) -> None:
    _pending(session, store_id)[1].update(c for c in customer_ids if c is not None)


def settle(session: Session) -> None:
    """Recompute what the transaction marked (the before_commit hook; also safe to call earlier)."""
    pending = session.info.pop(_KEY, None)
    if not pending:
        return
    session.flush()
    # All the transaction's stores at once (an inbox group of stores, inbox/batch_group.py, marks several): the
    # statements name the stores (`store_id IN (...)`), customer ids are the table's own, and each store's days
    # recounted are the union of all of theirs, which recounts some (store, day) for nothing, exactly.
    # PostgreSQL takes the customer ids as one bound array (platform/sql.in_keys), so a history import's chunk of
    # 5,000 customers is one statement, not ten (SQLite's bound parameters are capped: 500 there).
    size = 5000 if session.get_bind().dialect.name == "postgresql" else 500
    stores = sorted(pending)
    days: set[date] = set().union(*(store_days for store_days, _ in pending.values()))
    customers = sorted({c for _, store_customers in pending.values() for c in store_customers})
    for chunk in chunks(customers, size):
        days.update(_relink(session, [s for s in stores if pending[s][1]], chunk))
    _recount(session, stores, sorted(days))


def rebuild(session: Session, store_id: int) -> None:
    """The store's chains and rollup from scratch."""
    session.flush()
    _relink(session, [store_id], None)  # every customer's chain: one window over the store's orders
    recount_store(session, store_id)


def relink(session: Session, store_id: int, customer_ids: Sequence[int]) -> None:
    """These customers' chains, now (the end of a history import's orders' phase, a batch of customers at a time:
    inbox/history_bulk_settle.py); their days are left to the caller, who recounts the store's."""
    session.flush()
    _relink(session, [store_id], customer_ids)


def recount_store(session: Session, store_id: int) -> None:
    """Every day of the store's rollup, from its orders as they stand."""
    session.flush()
    session.execute(delete(OrderDay).where(OrderDay.store_id == store_id))
    first, last = session.execute(
        select(func.min(Order.placed_at), func.max(Order.placed_at)).where(Order.store_id == store_id)
    ).one()
    if first is not None:
        _insert_days(session, [store_id], [(midnight(day_of(first)), midnight(day_of(last)) + timedelta(days=1))])


def _standing(order: Any) -> Any:
    return and_(order.cancelled_at.is_(None), order.deleted_at.is_(None))


def _relink(session: Session, store_ids: Sequence[int], customer_ids: Sequence[int] | None) -> set[date]:
    """The chains of these customers' orders (None: every customer of the stores, for `rebuild`); the days of the
    orders whose links changed.

    One UPDATE (it was three: clear the links of orders that do not stand, set changed previous links, set changed
    next links): it runs once per store part of every inbox batch, and at 1,000 stores a part holds one to three
    deliveries, so its statements are a fixed cost per part (bench/process_parts.py). The days it returns are
    those of every order whose previous or next link changed, a superset of those whose "returning" changed:
    a day recounted for nothing is recounted exactly, from its rows."""
    stands = _standing(Order)
    standing = case((stands, 1), else_=0)
    order_by = (Order.placed_at, Order.id)  # same instant: lower id first
    partition = (Order.customer_id, standing)
    prev = func.lag(Order.placed_at).over(partition_by=partition, order_by=order_by)
    following = func.lead(Order.placed_at).over(partition_by=partition, order_by=order_by)
    chain = (
        select(
            Order.id.label("id"),
            # Orders that do not stand are out of every chain: both ends NULL.
            case((stands, prev), else_=None).label("prev"),
            case((stands, following), else_=None).label("next"),
        )
        .where(
            in_keys(session, Order.store_id, store_ids),
            in_keys(session, Order.customer_id, customer_ids)
            if customer_ids is not None
            else Order.customer_id.is_not(None),
            or_(stands, Order.prev_placed_at.is_not(None), Order.next_placed_at.is_not(None)),
        )
        .subquery()
    )
    changed = session.execute(
        update(Order)
        .where(
            in_keys(session, Order.store_id, store_ids),
            Order.id == chain.c.id,
            or_(
                Order.prev_placed_at.is_distinct_from(chain.c.prev),
                Order.next_placed_at.is_distinct_from(chain.c.next),
            ),
        )
        .values(prev_placed_at=chain.c.prev, next_placed_at=chain.c.next)
        .returning(Order.placed_at)
        .execution_options(synchronize_session=False, **NO_BALANCE)
    ).scalars()
    return {d for d in map(day_of, changed) if d is not None}


def _recount(session: Session, store_ids: Sequence[int], days: Sequence[date]) -> None:
    for chunk in chunks(list(days), 200):
        session.execute(delete(OrderDay).where(in_keys(session, OrderDay.store_id, store_ids), OrderDay.day.in_(chunk)))
        _insert_days(session, store_ids, day_ranges(chunk))


def _units(session: Session, expression: Any) -> Any:
    """An order's money in integer units of 1/10000: exact on PostgreSQL (NUMERIC(18,4)); on SQLite the text
    column is read as a REAL, which round() brings back to the exact integer (Money's 4 decimals)."""
    return cast(func.round(expression * literal(SCALE, Integer)), BigInteger)


def _insert_days(session: Session, store_ids: Sequence[int], ranges: list[tuple[datetime, datetime]]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        day = func.date(func.timezone("UTC", Order.placed_at))
    else:
        day = func.date(Order.placed_at)
    back = and_(Order.customer_id.is_not(None), Order.prev_placed_at.is_not(None))
    net = _units(session, Order.total_price - Order.refunded_amount)
    rows = (
        select(
            Order.store_id,
            day,
            Order.currency,
            func.count(),
            func.sum(case((back, 1), else_=0)),
            func.sum(net),
            func.sum(case((back, net), else_=0)),
        )
        .where(
            in_keys(session, Order.store_id, store_ids),
            _standing(Order),
            or_(*(and_(Order.placed_at >= start, Order.placed_at < end) for start, end in ranges)),
        )
        .group_by(Order.store_id, day, Order.currency)
    )
    columns = ["store_id", "day", "currency", "orders", "returning_orders", "revenue_units", "returning_units"]
    session.execute(insert(OrderDay).from_select(columns, rows))


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(_KEY):
        settle(session)
