"""Reviews as an order follower: the review request's due date kept in step with delivery, or cancelled."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.platform.sql import chunks, in_keys
from app.records.followers import LoadedOrder, OrderFollower
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
        for part in chunks(loaded):
            requests: dict[str, list[ReviewRequest]] = defaultdict(list)
            pids = [item.order.platform_id for item in part]
            for request in session.scalars(
                select(ReviewRequest).where(
                    ReviewRequest.store_id == store.id, in_keys(session, ReviewRequest.order_platform_id, pids)
                )
            ):
                requests[request.order_platform_id].append(request)
            for item in part:
                reconcile_loaded(session, store, item.order, requests[item.order.platform_id], item.parcels)
