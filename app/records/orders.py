"""Apply order, refund, fulfilment and shipment events to the store's records.

Convergence rules, so that duplicates and any delivery order end in the same state:
- an order snapshot older than the one held (platform `updated_at`) does not
  overwrite it; facts that only ever move one way (first paid, first shipped,
  delivered) are merged with min() from every snapshot, stale or not;
- refunds and fulfilments are rows of their own, keyed by platform id, and the
  order's refunded amount and fulfilled/delivered dates are recomputed from them.

This module applies order snapshots and deletions; the child rows are records/order_children.py, the
derivation and batch deferral records/order_derived.py. Their public names are re-exported here, where the
PIPELINE (inbox/pipeline.py) and the batch (inbox/batch_derived.py) import them.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.platform.sql import in_keys
from app.platform.types import utcnow
from app.records import batch_rows, batch_scope, order_days
from app.records.customers import resolve_customer
from app.records.models import Order, OrderDeletion
from app.records.order_children import (
    apply_fulfillment,
    apply_refund,
    apply_shipment_event,
    upsert_fulfillment,
    upsert_refund,
)
from app.records.order_derived import (
    INACTIVE_FULFILLMENTS,
    chunks,
    defer_order,
    derive_order,
    earliest,
    flush_unless_batch,
    lock_order,
    refresh_customer,
    refresh_customers,
    refresh_deferred_customers,
    refresh_order,
)
from app.stores.models import Store
from connectors.events import OrderChanged, OrderDeleted, OrderSnapshot

__all__ = [
    "INACTIVE_FULFILLMENTS",
    "PAID_STATES",
    "apply_fulfillment",
    "apply_order",
    "apply_refund",
    "apply_shipment_event",
    "chunks",
    "defer_order",
    "delete_order",
    "derive_order",
    "earliest",
    "find_order",
    "refresh_customer",
    "refresh_deferred_customers",
    "refresh_order",
]

PAID_STATES = {"paid", "partially_refunded", "refunded"}


def find_order(session: Session, store: Store, platform_id: str | None) -> Order | None:
    """The store's order with this platform id, if we hold it (no row lock: readers after record-keeping)."""
    if not platform_id:
        return None
    if (known := batch_rows.lookup(session, store.id, "order", platform_id)) is not batch_rows.MISS:
        return known
    return session.scalar(select(Order).where(Order.store_id == store.id, Order.platform_id == platform_id))


def apply_order(session: Session, store: Store, event: OrderChanged) -> Order:
    snap = event.order
    customer = resolve_customer(session, store, snap.customer) if snap.customer else None
    order = lock_order(session, store, snap.platform_id)
    previous_customer_id = order.customer_id if order else None
    if order is None:
        order = Order(store_id=store.id, platform_id=snap.platform_id, refunded_amount=Decimal("0"))
        session.add(order)
        batch_rows.remember(session, store.id, "order", order.platform_id, order)
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
    flush_unless_batch(session)
    for refund in snap.refunds:
        upsert_refund(session, store, refund)
    for fulfillment in snap.fulfillments:
        upsert_fulfillment(session, store, fulfillment)
    refresh_order(session, store, order)
    refresh_customers(session, store, order.customer_id, previous_customer_id)
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
    order = lock_order(session, store, event.order_id)
    if order is None:
        _remember_deletion(session, store, event.order_id)
        return
    if order.deleted_at is not None:
        return
    order.deleted_at = utcnow()
    order_days.mark_days(session, store.id, order.placed_at)
    flush_unless_batch(session)
    refresh_customers(session, store, order.customer_id, None)


def _may_have_marker(session: Session, store: Store, order_id: str) -> bool:
    """In a batch, the store's order ids with a deletion marker are loaded once (markers are few: each is dropped
    when its order lands). Only this batch can add one meanwhile (under the store's lock), so an id missing from
    the set has none: no query."""
    batch = batch_scope.current(session)
    if batch is None:
        return True
    known = batch.deletion_markers
    if store.id not in known:  # and for the other stores of the batch's group (under their locks too)
        stores = [s for s in batch_rows.mapped_stores(session, store.id) if s not in known]
        stmt = select(OrderDeletion.store_id, OrderDeletion.order_platform_id).where(
            in_keys(session, OrderDeletion.store_id, stores)
        )
        known.update({s: set() for s in stores})
        with session.no_autoflush:  # a marker is only added after this set is loaded, and into it: none pending
            for store_id, order_id in session.execute(stmt):
                known[store_id].add(order_id)
    return order_id in known[store.id]


def _deletion_marker(session: Session, store: Store, order_id: str) -> OrderDeletion | None:
    if not _may_have_marker(session, store, order_id):
        return None
    stmt = select(OrderDeletion).where(OrderDeletion.store_id == store.id, OrderDeletion.order_platform_id == order_id)
    return session.scalar(stmt)


def _remember_deletion(session: Session, store: Store, order_id: str) -> None:
    """The order is not here yet: keep the deletion for when it lands (else it would count for good)."""
    if _deletion_marker(session, store, order_id) is None:
        batch = batch_scope.current(session)
        if batch is not None and store.id in batch.deletion_markers:
            batch.deletion_markers[store.id].add(order_id)
        session.add(OrderDeletion(store_id=store.id, order_platform_id=order_id))
        session.flush()


def _pop_early_deletion(session: Session, store: Store, order_id: str) -> datetime | None:
    marker = _deletion_marker(session, store, order_id)
    if marker is None:
        return None
    session.delete(marker)
    return marker.deleted_at
