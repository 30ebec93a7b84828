"""Apply order, refund, fulfilment and shipment events to the store's records.

Convergence rules, so that duplicates and any delivery order end in the same state:
- an order snapshot older than the one held (platform `updated_at`) does not
  overwrite it; facts that only ever move one way (first paid, first shipped,
  delivered) are merged with min() from every snapshot, stale or not;
- refunds and fulfilments are rows of their own, keyed by platform id, and the
  order's refunded amount and fulfilled/delivered dates are recomputed from them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.events import (
    FulfillmentSnapshot,
    OrderChanged,
    OrderDeleted,
    OrderSnapshot,
    RefundSnapshot,
    ShipmentEvent,
)

from ..models import Customer, Fulfillment, Order, OrderDeletion, OrderRefund, Store
from ..models.types import utcnow
from .customers import apply_totals, refresh_totals, resolve_customer

PAID_STATES = {"paid", "partially_refunded", "refunded"}
INACTIVE_FULFILLMENTS = {"cancelled", "error", "failure"}


def earliest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def find_order(session: Session, store: Store, platform_id: str | None) -> Order | None:
    """The store's order with this platform id, if we hold it (no row lock: readers after record-keeping)."""
    if not platform_id:
        return None
    return session.scalar(select(Order).where(Order.store_id == store.id, Order.platform_id == platform_id))


def _order(session: Session, store: Store, platform_id: str) -> Order | None:
    stmt = select(Order).where(Order.store_id == store.id, Order.platform_id == platform_id)
    return session.scalar(stmt.with_for_update())


def apply_order(session: Session, store: Store, event: OrderChanged) -> Order:
    snap = event.order
    customer = resolve_customer(session, store, snap.customer) if snap.customer else None
    order = _order(session, store, snap.platform_id)
    previous_customer_id = order.customer_id if order else None
    if order is None:
        order = Order(store_id=store.id, platform_id=snap.platform_id, refunded_amount=Decimal("0"))
        session.add(order)
    if order.platform_updated_at is None or snap.updated_at >= order.platform_updated_at:
        _copy_snapshot(order, snap)
        if customer is not None:
            order.customer_id = customer.id
    elif order.customer_id is None and customer is not None:
        order.customer_id = customer.id
    paid_candidate = snap.paid_at or (snap.updated_at if snap.financial_status in PAID_STATES else None)
    order.paid_at = earliest(order.paid_at, paid_candidate)
    early_deletion = _pop_early_deletion(session, store, snap.platform_id)
    if event.restored:
        order.deleted_at = None
    elif early_deletion is not None and order.deleted_at is None:
        order.deleted_at = early_deletion
    session.flush()
    for refund in snap.refunds:
        _upsert_refund(session, store, refund)
    for fulfillment in snap.fulfillments:
        _upsert_fulfillment(session, store, fulfillment)
    refresh_order(session, store, order)
    _refresh_customers(session, store, order.customer_id, previous_customer_id)
    return order


def _copy_snapshot(order: Order, snap: OrderSnapshot) -> None:
    order.name = snap.name
    order.currency = snap.currency
    order.total_price = snap.total
    order.subtotal_price = snap.subtotal
    order.financial_status = snap.financial_status
    order.fulfillment_status = snap.fulfillment_status
    order.platform_status = snap.platform_status
    order.locale = snap.locale
    order.discount_codes = list(snap.discount_codes)
    order.line_items = [
        {
            "id": li.platform_id,
            "product_id": li.product_id,
            "variant_id": li.variant_id,
            "title": li.title,
            "quantity": li.quantity,
            "price": str(li.price),
            **({"image_url": li.image_url} if li.image_url else {}),
        }
        for li in snap.line_items
    ]
    order.shipping_address = dataclasses.asdict(snap.shipping_address) if snap.shipping_address else None
    order.phone = snap.phone
    order.payment_fingerprint = snap.payment_fingerprint
    order.referral_token = snap.referral_token
    order.placed_at = snap.created_at
    order.platform_updated_at = snap.updated_at
    order.cancelled_at = snap.cancelled_at


def delete_order(session: Session, store: Store, event: OrderDeleted) -> None:
    order = _order(session, store, event.order_id)
    if order is None:
        _remember_deletion(session, store, event.order_id)
        return
    if order.deleted_at is not None:
        return
    order.deleted_at = utcnow()
    session.flush()
    _refresh_customers(session, store, order.customer_id, None)


#: session.info key. While a batch is applied: {store id: order platform ids that may have a deletion
#: marker}, loaded once per store (markers are few: each is dropped when its order lands). Only this
#: batch can add one meanwhile (under the store's lock), so an id missing from the set has none: no query.
DELETION_MARKERS = "orders.deletion_markers"


def _may_have_marker(session: Session, store: Store, order_id: str) -> bool:
    known = session.info.get(DELETION_MARKERS)
    if known is None:
        return True
    if store.id not in known:
        stmt = select(OrderDeletion.order_platform_id).where(OrderDeletion.store_id == store.id)
        known[store.id] = set(session.scalars(stmt))
    return order_id in known[store.id]


def _deletion_marker(session: Session, store: Store, order_id: str) -> OrderDeletion | None:
    if not _may_have_marker(session, store, order_id):
        return None
    stmt = select(OrderDeletion).where(OrderDeletion.store_id == store.id, OrderDeletion.order_platform_id == order_id)
    return session.scalar(stmt)


def _remember_deletion(session: Session, store: Store, order_id: str) -> None:
    """The order is not here yet: keep the deletion for when it lands (else it would count for good)."""
    if _deletion_marker(session, store, order_id) is None:
        session.info.get(DELETION_MARKERS, {}).get(store.id, set()).add(order_id)
        session.add(OrderDeletion(store_id=store.id, order_platform_id=order_id))
        session.flush()


def _pop_early_deletion(session: Session, store: Store, order_id: str) -> datetime | None:
    marker = _deletion_marker(session, store, order_id)
    if marker is None:
        return None
    session.delete(marker)
    return marker.deleted_at


def apply_refund(session: Session, store: Store, refund: RefundSnapshot) -> None:
    _upsert_refund(session, store, refund)
    _refresh_parent(session, store, refund.order_id)


def apply_fulfillment(session: Session, store: Store, fulfillment: FulfillmentSnapshot) -> None:
    _upsert_fulfillment(session, store, fulfillment)
    _refresh_parent(session, store, fulfillment.order_id)


def apply_shipment_event(session: Session, store: Store, event: ShipmentEvent) -> None:
    row = _fulfillment_row(session, store, event.fulfillment_id, event.order_id)
    if event.status == "delivered":
        row.delivered_at = earliest(row.delivered_at, event.happened_at)
        row.shipment_status = "delivered"
    elif row.shipment_status != "delivered":
        row.shipment_status = event.status[:32]
    session.flush()
    _refresh_parent(session, store, event.order_id)


def _upsert_refund(session: Session, store: Store, snap: RefundSnapshot) -> None:
    stmt = select(OrderRefund).where(OrderRefund.store_id == store.id, OrderRefund.platform_id == snap.platform_id)
    if session.scalar(stmt) is not None:
        return  # a refund never changes once issued
    session.add(
        OrderRefund(
            store_id=store.id,
            order_platform_id=snap.order_id,
            platform_id=snap.platform_id,
            amount=snap.amount,
            currency=snap.currency,
            refunded_at=snap.created_at,
        )
    )
    session.flush()


def _fulfillment_row(session: Session, store: Store, platform_id: str, order_id: str) -> Fulfillment:
    stmt = select(Fulfillment).where(Fulfillment.store_id == store.id, Fulfillment.platform_id == platform_id)
    row = session.scalar(stmt.with_for_update())
    if row is None:
        row = Fulfillment(store_id=store.id, platform_id=platform_id, order_platform_id=order_id)
        session.add(row)
    return row


def _upsert_fulfillment(session: Session, store: Store, snap: FulfillmentSnapshot) -> None:
    row = _fulfillment_row(session, store, snap.platform_id, snap.order_id)
    held = row.platform_updated_at
    if held is None or snap.updated_at is None or snap.updated_at >= held:
        row.status = snap.status[:32]
        if row.shipment_status != "delivered" and snap.shipment_status:
            row.shipment_status = snap.shipment_status
        row.platform_updated_at = snap.updated_at or held
    row.shipped_at = earliest(row.shipped_at, snap.created_at)
    if snap.shipment_status == "delivered":
        row.delivered_at = earliest(row.delivered_at, snap.updated_at)
        row.shipment_status = "delivered"
    session.flush()


def _refresh_parent(session: Session, store: Store, order_platform_id: str) -> None:
    if defer_order(session, store, order_platform_id):
        return  # derived once for the batch (services/batch_derived.py), customer totals with it
    order = _order(session, store, order_platform_id)
    if order is None:
        return  # the order's own webhook will pick these rows up when it lands
    refresh_order(session, store, order)
    _refresh_customers(session, store, order.customer_id, None)


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


def derive_order(order: Order, refund_amounts: Sequence[Decimal], fulfillments: Sequence[Fulfillment]) -> None:
    """refresh_order's rules on rows already loaded (the batch path loads them for many orders at once)."""
    order.refunded_amount = sum(refund_amounts, Decimal("0"))
    active = [f for f in fulfillments if f.status is not None and f.status not in INACTIVE_FULFILLMENTS]
    order.fulfilled_at = earliest(*(f.shipped_at for f in active))
    # Delivered once every active shipment is delivered: the moment the last one arrived.
    delivered = [f.delivered_at for f in active]
    order.delivered_at = max(delivered) if active and all(delivered) else None  # type: ignore[type-var]


#: session.info key. While a batch is applied it holds the (store id, order platform id) whose derived
#: work (refresh_order, loyalty and review reconciles) is due once, before the batch commits
#: (services/batch_derived.py); the handlers only mark the order.
DIRTY_ORDERS = "orders.dirty_orders"


def defer_order(session: Session, store: Store, order_platform_id: str) -> bool:
    """Mark the order's derived work for the end of the batch; False outside a batch (do it now)."""
    dirty = session.info.get(DIRTY_ORDERS)
    if dirty is None:
        return False
    dirty.add((store.id, order_platform_id))
    return True


#: session.info key. While a batch is applied (services/inbox_batch.py) it holds the set of
#: (store id, customer id) whose totals are due: each is recomputed once, before the batch commits,
#: rather than once per delivery (the recomputation reads every order of the customer).
DEFERRED_REFRESH = "orders.deferred_customer_refresh"


def refresh_customer(session: Session, store: Store, customer: Customer) -> None:
    deferred = session.info.get(DEFERRED_REFRESH)
    if deferred is not None:
        deferred.add((store.id, customer.id))
        return
    refresh_totals(session, store, customer)


def _refresh_customers(session: Session, store: Store, *customer_ids: int | None) -> None:
    wanted = dict.fromkeys(cid for cid in customer_ids if cid is not None)
    deferred = session.info.get(DEFERRED_REFRESH)
    if deferred is not None:
        deferred.update((store.id, cid) for cid in wanted)
        return
    for customer_id in wanted:
        customer = session.get(Customer, customer_id, with_for_update=True)
        if customer is not None and customer.store_id == store.id:
            refresh_totals(session, store, customer)


def refresh_deferred_customers(session: Session, store: Store) -> None:
    """Recompute the totals deferred for this store (a handler that reads totals mid-batch calls this first)."""
    deferred = session.info.get(DEFERRED_REFRESH)
    if not deferred:
        return
    due = sorted(cid for sid, cid in deferred if sid == store.id)
    deferred.difference_update((store.id, cid) for cid in due)
    # Two queries for all of them, no FOR UPDATE: the batch holds the store's advisory lock
    # (services/inbox.lock_store), which already serialises every writer of this store's rows.
    for chunk in chunks(due):
        customers = session.scalars(select(Customer).where(Customer.store_id == store.id, Customer.id.in_(chunk))).all()
        held: dict[int, list[Order]] = {cid: [] for cid in chunk}
        for order in session.scalars(
            select(Order).where(Order.store_id == store.id, Order.customer_id.in_(chunk), Order.deleted_at.is_(None))
        ):
            held[order.customer_id].append(order)  # type: ignore[index]
        for customer in customers:  # a merged guest is gone: not found
            apply_totals(store, customer, held[customer.id])


def chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """IN lists of at most `size` (SQLite caps bound parameters per statement)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
