"""The survey as an order follower (records/followers.py): the single delivery and the batch call the same rule
(scheduling.reconcile), the batch reading its orders' existing requests in chunks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.platform.sql import chunks, in_keys
from app.records.followers import LoadedOrder, OrderFollower, StoreOrders
from app.records.models import Order
from app.stores.models import Store
from app.surveys.models import SurveyRequest
from app.surveys.scheduling import existing_requests, reconcile


class SurveyFollower(OrderFollower):
    name = "surveys"

    def reconcile(self, session: Session, store: Store, order: Order) -> None:
        found = existing_requests(session, store, [order.platform_id])
        reconcile(session, store, order, found.get(order.platform_id))

    def reconcile_many(self, session: Session, store: Store, loaded: Sequence[LoadedOrder], now: datetime) -> None:
        self.reconcile_group(session, [(store, loaded)], now)

    def reconcile_group(self, session: Session, stores: Sequence[StoreOrders], now: datetime) -> None:
        """Several stores' orders (an inbox group): their requests read per 500 orders for all the stores."""
        for part in chunks([(store, item) for store, loaded in stores for item in loaded]):
            store_ids = sorted({store.id for store, _ in part})
            pids = sorted({item.order.platform_id for _, item in part})
            stmt = select(SurveyRequest).where(
                in_keys(session, SurveyRequest.store_id, store_ids),
                in_keys(session, SurveyRequest.order_platform_id, pids),
            )
            found = {(row.store_id, row.order_platform_id): row for row in session.scalars(stmt)}
            for store, item in part:
                reconcile(session, store, item.order, found.get((store.id, item.order.platform_id)))
