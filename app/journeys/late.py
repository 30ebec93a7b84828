"""The late-parcel scan (a scheduler step, per active store): parcels whose promised delivery
(`estimated_delivery_at`, the carrier's latest word) passed more than the store's grace ago without a delivery,
or whose carrier reported a failure, are handled once each: a recovery case for the order (recovery.open_case:
an apology with a coupon, the merchant told; once per order whatever the number of late parcels), else, when
the store's recovery is off, a "delayed" update through the journey's own rule (decide.py).

One set-based query per store finds them (fulfilments with no `late` row: NOT EXISTS on delivery_updates, joined to
orders that stand and are not before the history cut-off), at most BATCH per tick; each handled parcel gets its
`late` row in the same transaction, so the next tick does not find it again. Only the stores where such a parcel
may be are visited (stores_with_late_parcels: one query across stores), so a tick over a thousand stores with
nothing late is one query, not a lock and a commit per store.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.journeys.decide import Parcel, decide
from app.journeys.models import HANDLED, DeliveryUpdate
from app.journeys.settings import get_settings
from app.journeys.states import DELAYED, LATE, SHIPPED_STATUS
from app.messaging.api import mail_now
from app.records.models import Fulfillment, HistoryImport, Order
from app.recovery import get_settings as recovery_settings
from app.recovery import open_case
from app.scheduler import for_each_active_store
from app.stores.models import Store

BATCH = 500


_OF_ORDER = and_(Order.store_id == Fulfillment.store_id, Order.platform_id == Fulfillment.order_platform_id)


def _late(promised_before: datetime) -> tuple[ColumnElement[bool], ...]:
    """A fulfilment (joined to its order) not delivered whose promise passed before then or whose carrier failed,
    of an order that stands and is not past (placed before the store's history cut-off, records/history.py), not
    handled yet. The past orders are left out in SQL, before the LIMIT: filtered after it, a store whose first
    BATCH late parcels were all imported history would never reach the others."""
    handled = exists().where(
        DeliveryUpdate.store_id == Fulfillment.store_id,
        DeliveryUpdate.fulfillment_platform_id == Fulfillment.platform_id,
        DeliveryUpdate.state == LATE,
    )
    past = exists().where(HistoryImport.store_id == Order.store_id, Order.placed_at < HistoryImport.cutoff_at)
    return (
        Fulfillment.status == SHIPPED_STATUS,
        Fulfillment.delivered_at.is_(None),
        or_(Fulfillment.estimated_delivery_at < promised_before, Fulfillment.shipment_status == "failure"),
        Order.cancelled_at.is_(None),
        Order.deleted_at.is_(None),
        ~handled,
        ~past,
    )


def late_parcels(session: Session, store: Store, now: datetime, grace: timedelta) -> list[tuple[Fulfillment, Order]]:
    stmt = (
        select(Fulfillment, Order)
        .join(Order, _OF_ORDER)
        .where(Fulfillment.store_id == store.id, *_late(now - grace))
        .order_by(Fulfillment.id)
        .limit(BATCH)
    )
    return list(session.execute(stmt).tuples())


def stores_with_late_parcels(now: datetime) -> Select[tuple[int]]:
    """The stores late_parcels may find something in: a superset, as the grace (0 hours or more) and whether the
    store wants them (_wanted) are each store's settings, read when it is visited. An EXISTS per store on the
    same conditions (the (store_id, estimated_delivery_at) index), stopping at the first parcel."""
    parcel = select(Fulfillment.id).join(Order, _OF_ORDER).where(Fulfillment.store_id == Store.id, *_late(now))
    return select(Store.id).where(parcel.exists())


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
        failure_key="journeys.late_scan_failed", due=stores_with_late_parcels(now),
    )  # fmt: skip
