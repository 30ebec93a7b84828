"""The scheduler step that queues the delivery updates the journey decided (rows `due`, decide.py): per active
store, at most BATCH a tick, with their orders and parcels in one query. Sending here, not in the follower, keeps
the inbox's batch to one insert per state (the send's channel choice, consent, cap slot and outbox row are several
statements each); the message's dedupe key `delivery:<fulfilment>:<state>` keeps a second scheduler from queueing
one twice."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Select, and_, exists, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.journeys.decide import Parcel, send
from app.journeys.models import DUE, DeliveryUpdate
from app.records.models import Fulfillment, Order
from app.scheduler import for_each_active_store
from app.stores.models import Store

BATCH = 500


def send_store(session: Session, store: Store) -> dict[str, int]:
    stmt = (
        select(DeliveryUpdate, Order, Fulfillment)
        .join(
            Order,
            and_(Order.store_id == DeliveryUpdate.store_id, Order.platform_id == DeliveryUpdate.order_platform_id),
        )
        .join(
            Fulfillment,
            and_(
                Fulfillment.store_id == DeliveryUpdate.store_id,
                Fulfillment.platform_id == DeliveryUpdate.fulfillment_platform_id,
            ),
        )
        .where(DeliveryUpdate.store_id == store.id, DeliveryUpdate.outcome == DUE)
        .order_by(DeliveryUpdate.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True, of=DeliveryUpdate)
    )
    rows = [(Parcel(order, parcel), row.state, row) for row, order, parcel in session.execute(stmt).tuples()]
    if rows:
        send(session, store, rows)
    return {"delivery_updates": len(rows)}


def send_due(app: Flask) -> dict[str, int]:
    """Scheduler step (delivery phase)."""
    return for_each_active_store(
        app, lambda store: send_store(db.session, store), enabled=lambda store: True,
        totals={"delivery_updates": 0}, failure_key="journeys.send_failed", due=stores_with_due_updates(),
    )  # fmt: skip


def stores_with_due_updates() -> Select[tuple[int]]:
    """Only the stores with an update due are visited (an EXISTS per store on (store_id, outcome)): a tick over a
    thousand stores with nothing due is one query, not one per store."""
    due = exists().where(DeliveryUpdate.store_id == Store.id, DeliveryUpdate.outcome == DUE)
    return select(Store.id).where(due)
