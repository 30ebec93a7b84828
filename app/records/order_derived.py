"""What an order derives from its child rows, and the batch's deferral of that work and of customer totals.

Split from records/orders.py (which re-exports these names). refresh_order/derive_order turn refund and
fulfilment rows into the order's refunded amount and fulfilled/delivered dates. While an inbox batch is
applied (inbox/batch.py, inbox/batch_derived.py) the handlers only mark orders and customers in the batch
(records/batch_scope.py), and the derived work runs once per order and customer before the batch commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from app.platform.sql import chunks, get_in_store, in_keys, loaded_in_store, set_together, values_of
from app.records import batch_rows, batch_scope, order_days
from app.records.customers import TOTALS_COLUMNS, apply_totals, refresh_totals
from app.records.models import Customer, Fulfillment, Order, OrderRefund
from app.stores.models import Store

INACTIVE_FULFILLMENTS = {"cancelled", "error", "failure"}


def earliest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def flush_unless_batch(session: Session) -> None:
    """Write the handler's changes now, except while a batch is applied: there the batch's rows go out together,
    grouped into executemany UPDATEs/INSERTs by the unit of work, at the derived work's first query (autoflush)
    or at the SAVEPOINT's release (inbox/batch.py). Queries autoflush either way."""
    if batch_scope.current(session) is None:
        session.flush()


def lock_order(session: Session, store: Store, platform_id: str) -> Order | None:
    """The store's order with this platform id, row-locked for the writer (None if we do not hold it).

    In a batch, from the rows loaded up front (the store's advisory lock is the writer's lock there)."""
    if (known := batch_rows.lookup(session, store.id, "order", platform_id)) is not batch_rows.MISS:
        return known
    stmt = select(Order).where(Order.store_id == store.id, Order.platform_id == platform_id)
    return session.scalar(stmt.with_for_update())


def refresh_order(session: Session, store: Store, order: Order) -> None:
    """Derive refunded amount and fulfilled/delivered dates from the child rows."""
    if defer_order(session, store, order.platform_id):
        return
    refunds = session.scalars(
        select(OrderRefund.amount).where(
            OrderRefund.store_id == store.id, OrderRefund.order_platform_id == order.platform_id
        )
    ).all()
    fulfillments = session.scalars(
        select(Fulfillment).where(Fulfillment.store_id == store.id, Fulfillment.order_platform_id == order.platform_id)
    ).all()
    derive_order(order, refunds, fulfillments)
    session.flush()


DERIVED_COLUMNS = ("refunded_amount", "fulfilled_at", "delivered_at")


def derive_order(order: Order, refund_amounts: Sequence[Decimal], fulfillments: Sequence[Fulfillment]) -> None:
    """refresh_order's rules on rows already loaded (the batch path loads them for many orders at once)."""
    before = values_of(order, DERIVED_COLUMNS)
    order.refunded_amount = sum(refund_amounts, Decimal("0"))
    active = [f for f in fulfillments if f.status is not None and f.status not in INACTIVE_FULFILLMENTS]
    order.fulfilled_at = earliest(*(f.shipped_at for f in active))
    # Delivered once every active shipment is delivered: the moment the last one arrived.
    delivered = [f.delivered_at for f in active]
    order.delivered_at = max(delivered) if active and all(delivered) else None  # type: ignore[type-var]
    set_together(order, DERIVED_COLUMNS, before)
    session = object_session(order)
    if session is not None:  # the order's day in the Overview's rollup, recounted before the commit
        order_days.mark_days(session, order.store_id, order.placed_at)


def defer_order(session: Session, store: Store, order_platform_id: str) -> bool:
    """Mark the order's derived work (refresh_order, the followers) for the end of the batch, once however many
    deliveries name it (records/batch_scope.py); False outside a batch (do it now)."""
    batch = batch_scope.current(session)
    if batch is None:
        return False
    batch.dirty_orders.add((store.id, order_platform_id))
    return True


def refresh_customer(session: Session, store: Store, customer: Customer) -> None:
    """The customer's totals from their orders; in a batch, once before it commits (they read every order)."""
    batch = batch_scope.current(session)
    if batch is not None:
        batch.customer_totals.add((store.id, customer.id))
        return
    refresh_totals(session, store, customer)


def refresh_customers(session: Session, store: Store, *customer_ids: int | None) -> None:
    wanted = dict.fromkeys(cid for cid in customer_ids if cid is not None)
    batch = batch_scope.current(session)
    if batch is not None:
        batch.customer_totals.update((store.id, cid) for cid in wanted)
        return
    for customer_id in wanted:
        customer = get_in_store(session, Customer, customer_id, store.id, for_update=True)
        if customer is not None:
            refresh_totals(session, store, customer)


def refresh_deferred_customers(session: Session, store: Store) -> None:
    """Recompute the totals deferred for this store (a handler that reads totals mid-batch calls this first)."""
    refresh_deferred_customers_of(session, [store])


def refresh_deferred_customers_of(session: Session, stores: Sequence[Store]) -> None:
    """The same for several stores whose locks the batch holds (a group of stores, inbox/batch_group.py): two
    queries for all of them, each naming the stores (`store_id IN (...)`); customer ids are the table's own, so
    a customer's orders are found by its id alone within those stores."""
    batch = batch_scope.current(session)
    deferred = batch.customer_totals if batch is not None else None
    if not deferred:
        return
    by_id = {store.id: store for store in stores}
    due = sorted((sid, cid) for sid, cid in deferred if sid in by_id)
    if not due:
        return
    deferred.difference_update(due)
    for sid in by_id:
        order_days.mark_customers(session, sid, [cid for s, cid in due if s == sid])  # their orders' chain
    # No FOR UPDATE: the batch holds the stores' advisory locks (platform/locks.lock_store), which already
    # serialise every writer of their rows.
    session.flush()  # what autoflush did before the query below: a merged guest's deletion goes out first
    store_ids = sorted({sid for sid, _ in due})
    for chunk in chunks(due):
        customers: list[Customer] = []
        missing: list[int] = []
        for sid in store_ids:
            held_rows, not_held = loaded_in_store(session, Customer, [c for s, c in chunk if s == sid], sid)
            customers += held_rows
            missing += not_held
        if missing:
            customers += session.scalars(
                select(Customer).where(
                    in_keys(session, Customer.store_id, store_ids), in_keys(session, Customer.id, missing)
                )
            ).all()
        held: dict[int, list[Any]] = {cid: [] for _, cid in chunk}
        for order in session.execute(
            select(*TOTALS_COLUMNS).where(
                in_keys(session, Order.store_id, store_ids),
                in_keys(session, Order.customer_id, list(held)),
                Order.deleted_at.is_(None),
            )
        ):
            held[order.customer_id].append(order)
        for customer in customers:  # a merged guest is gone: not found
            apply_totals(by_id[customer.store_id], customer, held[customer.id])
