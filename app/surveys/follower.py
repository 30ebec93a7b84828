"""The survey as an order follower (records/followers.py): the single delivery and the batch call the same rule
(scheduling.reconcile), the batch reading its orders' existing requests in chunks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from app.platform.sql import chunks
from app.records.followers import LoadedOrder, OrderFollower
from app.records.models import Order
from app.stores.models import Store
from app.surveys.scheduling import existing_requests, reconcile


class SurveyFollower(OrderFollower):
    name = "surveys"

    def reconcile(self, session: Session, store: Store, order: Order) -> None:
        found = existing_requests(session, store, [order.platform_id])
        reconcile(session, store, order, found.get(order.platform_id))

    def reconcile_many(self, session: Session, store: Store, loaded: Sequence[LoadedOrder], now: datetime) -> None:
        for part in chunks(list(loaded)):
            found = existing_requests(session, store, [item.order.platform_id for item in part])
            for item in part:
                reconcile(session, store, item.order, found.get(item.order.platform_id))
