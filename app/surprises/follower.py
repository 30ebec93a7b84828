"""Surprises as an order follower (records/followers.py): after an order is recorded, its customer's thresholds
are decided (service.decide) and the surprises whose order no longer stands are taken back (service.order_changed).
Both paths read the same rows: one query for the customers' counted orders and one for their decided thresholds
per 500 customers, only for customers whose order count reaches the store's lowest threshold. Past orders never
reach it (takes_past is the default False): imported history starts no surprise. Runs after loyalty's, so points
and a surprise's points land in one account refresh per batch (loyalty's settle)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from app.platform.sql import chunks
from app.platform.types import utcnow
from app.records.followers import LoadedOrder, OrderFollower
from app.records.models import Order
from app.stores.models import Store
from app.surprises.service import decide, order_changed
from app.surprises.settings import get_settings


class SurpriseFollower(OrderFollower):
    name = "surprises"

    def reconcile(self, session: Session, store: Store, order: Order) -> None:
        self._orders(session, store, [order], utcnow())

    def reconcile_many(self, session: Session, store: Store, loaded: Sequence[LoadedOrder], now: datetime) -> None:
        for part in chunks(loaded):
            self._orders(session, store, [item.order for item in part], now)

    @staticmethod
    def _orders(session: Session, store: Store, orders: Sequence[Order], now: datetime) -> None:
        if not (store.settings or {}).get("surprises"):
            return  # never set up: no row to take back, nothing to decide
        order_changed(session, store, orders, now)  # before deciding: a code used, an order gone
        if get_settings(store).enabled:
            decide(session, store, {o.customer_id for o in orders if o.customer_id is not None and o.paid_at}, now)
