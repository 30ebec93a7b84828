"""The derived work of a batch, once per dirty order and customer, just before the batch commits.

What derives from an order's rows (its refunded amount and fulfilment dates, records/order_derived.py) and what
the followers own for it (records/followers.py: points, referral, review request) are functions of the rows as
they are (DESIGN.md, "Why events are snapshots"), so doing it once after the batch's last delivery for the order
gives what doing it after every delivery gives: a stream has ~6 deliveries per order, and a batch carries several
per order.

While a batch is applied (inbox/batch.py) the handlers only mark the order (orders.defer_order, through
followers.order_changed) and the customer (orders.refresh_customer); run_deferred() then, per store part, or
run_deferred_group() for a group of store parts (inbox/batch_group.py: steps 1 and 2 for all its stores at once,
`store_id IN (...)`, each row to its own store; step 3 store by store):
1. takes the dirty orders from the part's maps (queried when not held loaded), loads their refunds and
   fulfilments (one query per table) and derives each order;
2. recomputes the totals of the customers touched (theirs included), two queries in all;
3. hands the derived orders to every follower's reconcile_many, in their registered order (loyalty: ledger rows
   and tiers loaded, points reconciled, accounts refreshed; referrals; reviews), then lets each settle what it
   deferred meanwhile.
No FOR UPDATE: the batch holds the store's advisory lock (platform/locks.lock_store), which serialises
every writer of the store's rows (the scheduler's loyalty and review steps take it too).
A delivery rolled back by its SAVEPOINT may have marked an order: deriving it anyway is harmless (the
result depends only on the rows). If this work fails, the caller rolls the batch back and applies its
deliveries one by one, each with its derived work inline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.platform.sql import chunks, in_keys
from app.platform.types import utcnow
from app.records import batch_rows, batch_scope, followers, orders
from app.records.followers import LoadedOrder
from app.records.models import Fulfillment, Order, OrderRefund
from app.records.order_derived import refresh_deferred_customers_of
from app.stores.models import Store


def run_deferred(session: Session, store: Store, now: datetime | None = None) -> None:
    """The store's deferred work; the caller holds the store's lock and commits."""
    run_deferred_group(session, [store], now)


def run_deferred_group(session: Session, stores: Sequence[Store], now: datetime | None = None) -> None:
    """The deferred work of several stores whose locks the caller holds (in one transaction it commits)."""
    now = now or utcnow()
    batch = batch_scope.current(session)
    dirty: set[tuple[int, str]] = batch.dirty_orders if batch is not None else set()
    by_id = {store.id: store for store in stores}
    due = sorted(key for key in dirty if key[0] in by_id)
    dirty.difference_update(due)
    loaded: dict[int, list[LoadedOrder]] = {store_id: [] for store_id in by_id}
    for chunk in chunks(due):
        for item in _derive_orders(session, sorted({sid for sid, _ in chunk}), chunk):
            loaded[item.order.store_id].append(item)
    if batch is not None:
        batch.customer_totals.update(
            (item.order.store_id, item.order.customer_id)
            for items in loaded.values()
            for item in items
            if item.order.customer_id is not None
        )
    refresh_deferred_customers_of(session, stores)
    # also with no order: their deferred work settles
    followers.reconcile_group(session, [(store, loaded[store.id]) for store in stores], now)
    session.flush()


def _mapped_orders(session: Session, keys: Sequence[tuple[int, str]]) -> tuple[list[Order], list[tuple[int, str]]]:
    """The dirty orders the part's maps hold (records/batch_rows.py: preloaded, or created by the part), loaded in
    full, and the (store id, platform id) to query: at 1,000 stores a part holds one to three deliveries and the
    orders it marks are the ones it named, so the re-read is mostly not needed. A key known absent stays absent
    (no row to derive); an expired row is queried (its refresh would read it by id, without the store filter)."""
    found: list[Order] = []
    missing: list[tuple[int, str]] = []
    for store_id, pid in keys:
        row = batch_rows.lookup(session, store_id, "order", pid)
        if row is None:
            continue
        if row is batch_rows.MISS or inspect(row).expired_attributes:
            missing.append((store_id, pid))
        else:
            found.append(row)
    return found, missing


def _derive_orders(session: Session, store_ids: list[int], keys: Sequence[tuple[int, str]]) -> list[LoadedOrder]:
    """Derive these orders, their refunds and parcels read in one query per table for all the stores (the rows of
    another store of the group with the same order id are not theirs: filtered on (store id, order id))."""
    wanted = set(keys)
    pids = sorted({pid for _, pid in keys})
    found, missing = _mapped_orders(session, keys)
    if missing:
        stmt = select(Order).where(
            in_keys(session, Order.store_id, sorted({s for s, _ in missing})),
            in_keys(session, Order.platform_id, sorted({p for _, p in missing})),
        )
        found += [o for o in session.scalars(stmt) if (o.store_id, o.platform_id) in set(missing)]
    refunds: dict[tuple[int, str], list[OrderRefund]] = defaultdict(list)
    for refund in session.scalars(
        select(OrderRefund)
        .where(in_keys(session, OrderRefund.store_id, store_ids), in_keys(session, OrderRefund.order_platform_id, pids))
        .order_by(OrderRefund.platform_id)
    ):
        refunds[refund.store_id, refund.order_platform_id].append(refund)
    parcels: dict[tuple[int, str], list[Fulfillment]] = defaultdict(list)
    for row in session.scalars(
        select(Fulfillment).where(
            in_keys(session, Fulfillment.store_id, store_ids), in_keys(session, Fulfillment.order_platform_id, pids)
        )
    ):
        parcels[row.store_id, row.order_platform_id].append(row)
    out = []
    for order in sorted(found, key=lambda o: (o.store_id, o.platform_id)):
        key = (order.store_id, order.platform_id)
        if key not in wanted:
            continue
        mine, theirs = refunds[key], parcels[key]
        orders.derive_order(order, [r.amount for r in mine], theirs)
        out.append(LoadedOrder(order, mine, theirs))
    return out
