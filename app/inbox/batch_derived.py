"""The derived work of a batch, once per dirty order and customer, just before the batch commits.

What derives from an order's rows (its refunded amount and fulfilment dates, records/order_derived.py) and what
the followers own for it (records/followers.py: points, referral, review request) are functions of the rows as
they are (DESIGN.md, "Why events are snapshots"), so doing it once after the batch's last delivery for the order
gives what doing it after every delivery gives: a stream has ~6 deliveries per order, and a batch carries several
per order.

While a batch is applied (inbox/batch.py) the handlers only mark the order (orders.defer_order, through
followers.order_changed) and the customer (orders.refresh_customer); run_deferred() then, per store:
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
from datetime import datetime

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.platform.sql import in_keys
from app.platform.types import utcnow
from app.records import batch_rows, batch_scope, followers, orders
from app.records.followers import LoadedOrder
from app.records.models import Fulfillment, Order, OrderRefund
from app.stores.models import Store


def run_deferred(session: Session, store: Store, now: datetime | None = None) -> None:
    """The store's deferred work; the caller holds the store's lock and commits."""
    now = now or utcnow()
    batch = batch_scope.current(session)
    dirty: set[tuple[int, str]] = batch.dirty_orders if batch is not None else set()
    pids = sorted(pid for sid, pid in dirty if sid == store.id)
    dirty.difference_update((store.id, pid) for pid in pids)
    loaded: list[LoadedOrder] = []
    for chunk in orders.chunks(pids):
        loaded += _derive_orders(session, store, chunk)
    if batch is not None:
        batch.customer_totals.update(
            (store.id, item.order.customer_id) for item in loaded if item.order.customer_id is not None
        )
    orders.refresh_deferred_customers(session, store)
    followers.reconcile_many(session, store, loaded, now)  # also with no order: their deferred work settles
    session.flush()


def _mapped_orders(session: Session, store_id: int, pids) -> tuple[list[Order], list[str]]:
    """The dirty orders the part's maps hold (records/batch_rows.py: preloaded, or created by the part), loaded in
    full, and the platform ids to query: at 1,000 stores a part holds one to three deliveries and the orders it
    marks are the ones it named, so the re-read is mostly not needed. A key known absent stays absent (no row
    to derive); an expired row is queried (its refresh would read it by id, without the store filter)."""
    found: list[Order] = []
    missing: list[str] = []
    for pid in pids:
        row = batch_rows.lookup(session, store_id, "order", pid)
        if row is None:
            continue
        if row is batch_rows.MISS or inspect(row).expired_attributes:
            missing.append(pid)
        else:
            found.append(row)
    return found, missing


def _derive_orders(session: Session, store: Store, pids) -> list[LoadedOrder]:
    found, missing = _mapped_orders(session, store.id, pids)
    if missing:
        found += session.scalars(
            select(Order).where(Order.store_id == store.id, in_keys(session, Order.platform_id, missing))
        ).all()
    refunds: dict[str, list[OrderRefund]] = defaultdict(list)
    for refund in session.scalars(
        select(OrderRefund)
        .where(OrderRefund.store_id == store.id, in_keys(session, OrderRefund.order_platform_id, pids))
        .order_by(OrderRefund.platform_id)
    ):
        refunds[refund.order_platform_id].append(refund)
    parcels: dict[str, list[Fulfillment]] = defaultdict(list)
    for row in session.scalars(
        select(Fulfillment).where(
            Fulfillment.store_id == store.id, in_keys(session, Fulfillment.order_platform_id, pids)
        )
    ):
        parcels[row.order_platform_id].append(row)
    out = []
    for order in sorted(found, key=lambda o: o.platform_id):
        mine, theirs = refunds[order.platform_id], parcels[order.platform_id]
        orders.derive_order(order, [r.amount for r in mine], theirs)
        out.append(LoadedOrder(order, mine, theirs))
    return out
