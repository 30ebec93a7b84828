"""Recovery as an order follower: a case's coupon is taken back when its order is refunded, cancelled or deleted
before the code was used, and marked used when an order carries it (service.order_changed / code_used).

Both paths read the same rows: the cases of the orders in hand (one query per 500 orders) and, only when an order
carries a code that looks like ours (service.PREFIX), the cases holding those codes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.platform.sql import chunks, in_keys
from app.platform.types import utcnow
from app.records.followers import LoadedOrder, OrderFollower
from app.records.models import Order
from app.recovery.models import RecoveryCase
from app.recovery.service import PREFIX, code_used, order_changed
from app.stores.models import Store


class RecoveryFollower(OrderFollower):
    name = "recovery"

    def reconcile(self, session: Session, store: Store, order: Order) -> None:
        self._orders(session, store, [order], utcnow())

    def reconcile_many(self, session: Session, store: Store, loaded: Sequence[LoadedOrder], now: datetime) -> None:
        for part in chunks(loaded):
            self._orders(session, store, [item.order for item in part], now)

    def _orders(self, session: Session, store: Store, orders: Sequence[Order], now: datetime) -> None:
        codes = {c.upper() for o in orders for c in o.discount_codes or [] if c.upper().startswith(PREFIX)}
        pids = [o.platform_id for o in orders if self._may_have_case(o)]
        stmt = select(RecoveryCase).where(RecoveryCase.store_id == store.id)
        by_order: dict[str, list[RecoveryCase]] = defaultdict(list)
        if pids:
            for case in session.scalars(stmt.where(in_keys(session, RecoveryCase.order_platform_id, pids))):
                by_order[case.order_platform_id].append(case)
        for order in orders:
            if by_order.get(order.platform_id):
                order_changed(session, store, order, by_order[order.platform_id], now)
        if codes:
            used = list(session.scalars(stmt.where(RecoveryCase.code.in_(sorted(codes)))))
            for order in orders:
                code_used(store, order, used)

    @staticmethod
    def _may_have_case(order: Order) -> bool:
        """Only an order that no longer stands can move its case: the query is skipped for the others."""
        return order.cancelled_at is not None or order.deleted_at is not None or order.refunded_amount > 0
