"""Reviews as an order follower: the review request's due date kept in step with delivery, or cancelled."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.platform.sql import chunks, in_keys
from app.records.followers import LoadedOrder, OrderFollower, StoreOrders
from app.records.models import Order
from app.reviews.models import ReviewRequest
from app.reviews.requests import reconcile, reconcile_loaded
from app.stores.models import Store


class ReviewFollower(OrderFollower):
    name = "reviews"

    def reconcile(self, session: Session, store: Store, order: Order) -> None:
        reconcile(session, store, order.platform_id)  # locks the order's requests (FOR UPDATE) and its parcels

    def reconcile_many(self, session: Session, store: Store, loaded: Sequence[LoadedOrder], now: datetime) -> None:
        """The orders' requests loaded per 500 orders (one query), reconciled on the parcels already loaded."""
        self.reconcile_group(session, [(store, loaded)], now)

    def reconcile_group(self, session: Session, stores: Sequence[StoreOrders], now: datetime) -> None:
        """The same for several stores: one query per 500 orders for all of them (`store_id IN (...)`)."""
        for part in chunks([(store, item) for store, loaded in stores for item in loaded]):
            requests: dict[tuple[int, str], list[ReviewRequest]] = defaultdict(list)
            store_ids = sorted({store.id for store, _ in part})
            pids = sorted({item.order.platform_id for _, item in part})
            for request in session.scalars(
                select(ReviewRequest).where(
                    in_keys(session, ReviewRequest.store_id, store_ids),
                    in_keys(session, ReviewRequest.order_platform_id, pids),
                )
            ):
                requests[request.store_id, request.order_platform_id].append(request)
            for store, item in part:
                key = (store.id, item.order.platform_id)
                reconcile_loaded(session, store, item.order, requests[key], item.parcels)
