"""Refunds, fulfilments and shipment events: the order's child rows, each keyed by its platform id.

Split from records/orders.py (which re-exports the apply_* functions). A refund never changes once issued;
a fulfilment takes the newest snapshot, while shipped and delivered only move one way (min()). After each
write the parent order is re-derived (records/order_derived.py), or marked for the batch to derive once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.records import batch_rows
from app.records.models import Fulfillment, OrderRefund
from app.records.order_derived import (
    defer_order,
    earliest,
    flush_unless_batch,
    lock_order,
    refresh_customers,
    refresh_order,
)
from app.stores.models import Store
from connectors.events import FulfillmentSnapshot, RefundSnapshot, ShipmentEvent


def apply_refund(session: Session, store: Store, refund: RefundSnapshot) -> None:
    upsert_refund(session, store, refund)
    _refresh_parent(session, store, refund.order_id)


def apply_fulfillment(session: Session, store: Store, fulfillment: FulfillmentSnapshot) -> None:
    upsert_fulfillment(session, store, fulfillment)
    _refresh_parent(session, store, fulfillment.order_id)


def apply_shipment_event(session: Session, store: Store, event: ShipmentEvent) -> None:
    row = _fulfillment_row(session, store, event.fulfillment_id, event.order_id)
    _saw_status(row, event.status)
    if event.estimated_delivery_at is not None:
        row.estimated_delivery_at = event.estimated_delivery_at  # the carrier's latest word
    if event.status == "delivered":
        row.delivered_at = earliest(row.delivered_at, event.happened_at)
        row.shipment_status = "delivered"
    elif row.shipment_status != "delivered":
        row.shipment_status = event.status[:32]
    flush_unless_batch(session)
    _refresh_parent(session, store, event.order_id)


def upsert_refund(session: Session, store: Store, snap: RefundSnapshot) -> None:
    held = batch_rows.lookup(session, store.id, "refund", snap.platform_id)
    if held is batch_rows.MISS:
        stmt = select(OrderRefund).where(OrderRefund.store_id == store.id, OrderRefund.platform_id == snap.platform_id)
        held = session.scalar(stmt)
    if held is not None:
        return  # a refund never changes once issued
    refund = OrderRefund(
        store_id=store.id,
        order_platform_id=snap.order_id,
        platform_id=snap.platform_id,
        amount=snap.amount,
        currency=snap.currency,
        refunded_at=snap.created_at,
    )
    session.add(refund)
    batch_rows.remember(session, store.id, "refund", refund.platform_id, refund)
    flush_unless_batch(session)


def _fulfillment_row(session: Session, store: Store, platform_id: str, order_id: str) -> Fulfillment:
    row = batch_rows.lookup(session, store.id, "fulfillment", platform_id)
    if row is batch_rows.MISS:
        stmt = select(Fulfillment).where(Fulfillment.store_id == store.id, Fulfillment.platform_id == platform_id)
        row = session.scalar(stmt.with_for_update())
    if row is None:
        row = Fulfillment(store_id=store.id, platform_id=platform_id, order_platform_id=order_id)
        session.add(row)
        batch_rows.remember(session, store.id, "fulfillment", platform_id, row)
    return row


def upsert_fulfillment(session: Session, store: Store, snap: FulfillmentSnapshot) -> None:
    row = _fulfillment_row(session, store, snap.platform_id, snap.order_id)
    held = row.platform_updated_at
    if held is None or snap.updated_at is None or snap.updated_at >= held:
        row.status = snap.status[:32]
        if row.shipment_status != "delivered" and snap.shipment_status:
            row.shipment_status = snap.shipment_status
        row.platform_updated_at = snap.updated_at or held
        if snap.tracking_number or snap.tracking_url:
            row.tracking_company = snap.tracking_company
            row.tracking_number = snap.tracking_number
            row.tracking_url = snap.tracking_url
        if snap.estimated_delivery_at is not None:
            row.estimated_delivery_at = snap.estimated_delivery_at
    row.shipped_at = earliest(row.shipped_at, snap.created_at)
    if snap.shipment_status:
        _saw_status(row, snap.shipment_status)
    if snap.shipment_status == "delivered":
        row.delivered_at = earliest(row.delivered_at, snap.delivered_at or snap.updated_at)
        row.shipment_status = "delivered"
    flush_unless_batch(session)


def _saw_status(row: Fulfillment, status: str) -> None:
    seen = row.carrier_statuses or []
    if status[:32] not in seen:
        row.carrier_statuses = [*seen, status[:32]]  # a new list, so the JSON column sees the change


def _refresh_parent(session: Session, store: Store, order_platform_id: str) -> None:
    if defer_order(session, store, order_platform_id):
        return  # derived once for the batch (inbox/batch_derived.py), customer totals with it
    order = lock_order(session, store, order_platform_id)
    if order is None:
        return  # the order's own webhook will pick these rows up when it lands
    refresh_order(session, store, order)
    refresh_customers(session, store, order.customer_id, None)
