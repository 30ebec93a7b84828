"""The late-parcel scan (a scheduler step, per active store): parcels whose promised delivery
(`estimated_delivery_at`, the carrier's latest word) passed more than the store's grace ago without a delivery,
or whose carrier reported a failure, are handled once each: a recovery case for the order (recovery.open_case:
an apology with a coupon, the merchant told; once per order whatever the number of late parcels), else, when
the store's recovery is off, a "delayed" update through the journey's own rule (decide.py).

One set-based query per store finds them (fulfilments with no `late` row: NOT EXISTS on delivery_updates, joined to
orders that stand and are not before the history cut-off), at most BATCH per tick; each handled parcel gets its
`late` row in the same transaction, so the next tick does not find it again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.journeys.decide import Parcel, decide
from app.journeys.models import HANDLED, DeliveryUpdate
from app.journeys.settings import get_settings
from app.journeys.states import DELAYED, LATE, SHIPPED_STATUS
from app.messaging.api import mail_now
from app.records.history import policy
from app.records.models import Fulfillment, Order
from app.recovery import get_settings as recovery_settings
from app.recovery import open_case
from app.scheduler import for_each_active_store
from app.stores.models import Store

BATCH = 500


def late_parcels(session: Session, store: Store, now: datetime, grace: timedelta) -> list[tuple[Fulfillment, Order]]:
    handled = exists().where(
        DeliveryUpdate.store_id == Fulfillment.store_id,
        DeliveryUpdate.fulfillment_platform_id == Fulfillment.platform_id,
        DeliveryUpdate.state == LATE,
    )
    stmt = (
        select(Fulfillment, Order)
        .join(Order, and_(Order.store_id == Fulfillment.store_id, Order.platform_id == Fulfillment.order_platform_id))
        .where(
            Fulfillment.store_id == store.id,
            Fulfillment.status == SHIPPED_STATUS,
            Fulfillment.delivered_at.is_(None),
            or_(Fulfillment.estimated_delivery_at < now - grace, Fulfillment.shipment_status == "failure"),
            Order.cancelled_at.is_(None),
            Order.deleted_at.is_(None),
            ~handled,
        )
        .order_by(Fulfillment.id)
        .limit(BATCH)
    )
    found = policy(session, store.id)
    return [(f, o) for f, o in session.execute(stmt).tuples() if found is None or not found.past(o)]


def scan_store(session: Session, store: Store, now: datetime) -> dict[str, int]:
    recovery = recovery_settings(store)
    journey = get_settings(store)
    use_recovery = recovery.enabled and recovery.late_parcels
    counts = {"late_parcels": 0, "recovery_cases": 0}
    for parcel, order in late_parcels(session, store, now, timedelta(hours=recovery.grace_hours)):
        counts["late_parcels"] += 1
        reason = "carrier_failure" if parcel.shipment_status == "failure" else "late_parcel"
        case = None
        if use_recovery:
            case = open_case(
                session, store, order_id=order.platform_id, customer_id=order.customer_id, reason=reason,
                source=f"fulfillment:{parcel.platform_id}", now=now,
            )  # fmt: skip
            counts["recovery_cases"] += case is not None
        held = {parcel.platform_id: list(_rows(session, store, parcel))}
        if case is None and journey["enabled"] and reason == "late_parcel":
            decide(session, store, [Parcel(order, parcel, frozenset({DELAYED}))], held)
        session.add(
            DeliveryUpdate(
                store_id=store.id,
                order_platform_id=order.platform_id,
                fulfillment_platform_id=parcel.platform_id,
                state=LATE,
                outcome=HANDLED,
            )
        )
        session.flush()
    return counts


def _rows(session: Session, store: Store, parcel: Fulfillment) -> Any:
    stmt = select(DeliveryUpdate).where(
        DeliveryUpdate.store_id == store.id, DeliveryUpdate.fulfillment_platform_id == parcel.platform_id
    )
    return session.scalars(stmt)


def _wanted(store: Store) -> bool:
    recovery = recovery_settings(store)
    return (recovery.enabled and recovery.late_parcels) or get_settings(store)["enabled"]


def scan_late_parcels(app: Flask) -> dict[str, int]:
    """Scheduler step (programmes phase)."""
    totals = {"late_parcels": 0, "recovery_cases": 0}
    now = mail_now(app)
    return for_each_active_store(
        app, lambda store: scan_store(db.session, store, now), enabled=_wanted, totals=totals,
        failure_key="journeys.late_scan_failed",
    )  # fmt: skip
