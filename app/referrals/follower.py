"""Referrals as an order follower: a friend's first paid order attributed, voided on refund, its reward due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from app.records.followers import LoadedOrder, OrderFollower, StoreOrders
from app.records.models import Order
from app.referrals.orders import reconcile_order
from app.referrals.preload import preload_referrals_of
from app.stores.models import Store


class ReferralFollower(OrderFollower):
    name = "referrals"

    def reconcile(self, session: Session, store: Store, order: Order) -> None:
        reconcile_order(session, store, order)

    def reconcile_many(self, session: Session, store: Store, loaded: Sequence[LoadedOrder], now: datetime) -> None:
        """The orders' referrals and the invites their codes name loaded once, then each order reconciled. Runs
        after loyalty's: the order's derived delivery dates set the reward's due date."""
        self.reconcile_group(session, [(store, loaded)], now)

    def reconcile_group(self, session: Session, stores: Sequence[StoreOrders], now: datetime) -> None:
        """Several stores' orders (an inbox group): their referrals and invites read once for all the stores."""
        preload_referrals_of(session, {store.id: [item.order for item in loaded] for store, loaded in stores})
        for store, loaded in stores:
            for item in loaded:
                reconcile_order(session, store, item.order)
