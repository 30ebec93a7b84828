"""The delivery journey as an order follower (records/followers.py): after every order, refund, fulfilment or
carrier event is recorded, each parcel's new states are decided (decide.py). One path for both: the single
delivery loads its order's parcels and rows; a batch has the parcels loaded and reads the rows of 500 orders at
once. A store with the journey off costs one settings read per batch and nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.journeys.decide import Parcel, decide
from app.journeys.models import DeliveryUpdate
from app.journeys.settings import get_settings
from app.platform.sql import chunks, in_keys
from app.records.followers import LoadedOrder, OrderFollower
from app.records.models import Fulfillment, Order
from app.stores.models import Store


def _held(session: Session, store: Store, order_ids: Sequence[str]) -> dict[str, list[DeliveryUpdate]]:
    rows: dict[str, list[DeliveryUpdate]] = defaultdict(list)
    stmt = select(DeliveryUpdate).where(
        DeliveryUpdate.store_id == store.id, in_keys(session, DeliveryUpdate.order_platform_id, order_ids)
    )
    for row in session.scalars(stmt):
        rows[row.fulfillment_platform_id].append(row)
    return rows


class JourneyFollower(OrderFollower):
    name = "journeys"

    def reconcile(self, session: Session, store: Store, order: Order) -> None:
        if not get_settings(store)["enabled"]:
            return
        parcels = session.scalars(
            select(Fulfillment).where(
                Fulfillment.store_id == store.id, Fulfillment.order_platform_id == order.platform_id
            )
        ).all()
        if parcels:
            decide(session, store, [Parcel(order, p) for p in parcels], _held(session, store, [order.platform_id]))

    def reconcile_many(self, session: Session, store: Store, loaded: Sequence[LoadedOrder], now: datetime) -> None:
        if not get_settings(store)["enabled"]:
            return
        for part in chunks([item for item in loaded if item.parcels]):
            held = _held(session, store, [item.order.platform_id for item in part])
            decide(session, store, [Parcel(item.order, p) for item in part for p in item.parcels], held)
