"""Loyalty as an order follower: an order's points reconciled with the order, one order or a batch's at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.ledger import refresh_accounts
from app.loyalty.models import LoyaltyAccount, PointsLedger
from app.loyalty.orders import reconcile_loaded, reconcile_order
from app.loyalty.refresh import DEFERRED_ACCOUNTS
from app.platform.sql import chunks, in_keys
from app.records import batch_scope
from app.records.followers import LoadedOrder, OrderFollower
from app.records.history import Policy
from app.records.models import Order
from app.stores.models import Store


class LoyaltyFollower(OrderFollower):
    name = "loyalty"

    def takes_past(self, policy: Policy) -> bool:
        return policy.earn_points  # the merchant's choice: points for past orders, with today's rules, or none

    def reconcile(self, session: Session, store: Store, order: Order) -> None:
        reconcile_order(session, store, order)

    def reconcile_many(self, session: Session, store: Store, loaded: Sequence[LoadedOrder], now: datetime) -> None:
        """The orders' ledger rows and their owners' tiers loaded per 500 orders (three queries), the points
        reconciled, then every account touched refreshed once."""
        accounts: set[int] = set()
        for part in chunks(loaded):
            accounts |= _reconcile_points(session, store, part, now)
        _refresh_accounts(session, store, accounts, now)

    def settle(self, session: Session, store: Store, now: datetime) -> None:
        _refresh_accounts(session, store, set(), now)  # those marked after reconcile_many (a referral's reward)


def _refresh_accounts(session: Session, store: Store, accounts: set[int], now: datetime) -> None:
    """These accounts and those the batch's handlers marked (loyalty/refresh.refresh_account: action rewards,
    guest merges, released holds), each refreshed once."""
    batch = batch_scope.current(session)
    marked: set[tuple[int, int]] = batch.marks(DEFERRED_ACCOUNTS) if batch is not None else set()
    due = {(sid, cid) for sid, cid in marked if sid == store.id}
    marked.difference_update(due)
    accounts |= {cid for _, cid in due}
    if accounts:
        refresh_accounts(session, store, accounts, now)


def _reconcile_points(session: Session, store: Store, loaded: Sequence[LoadedOrder], now: datetime) -> set[int]:
    pids = [item.order.platform_id for item in loaded]
    rows: dict[str, list[PointsLedger]] = defaultdict(list)
    for row in session.scalars(
        select(PointsLedger)
        .where(PointsLedger.store_id == store.id, in_keys(session, PointsLedger.order_platform_id, pids))
        .order_by(PointsLedger.id)
    ):
        rows[row.order_platform_id].append(row)  # type: ignore[index]  # the query selects rows that name an order
    owners = {item.order.customer_id for item in loaded if item.order.customer_id is not None}
    owners |= {r.customer_id for held in rows.values() for r in held}
    tiers = dict(
        session.execute(
            select(LoyaltyAccount.customer_id, LoyaltyAccount.tier).where(
                LoyaltyAccount.store_id == store.id, in_keys(session, LoyaltyAccount.customer_id, sorted(owners))
            )
        )
        .tuples()  # typing only (the same Result at run time): rows as (customer_id, tier) pairs for dict()
        .all()
    )
    touched: set[int] = set()
    for item in loaded:
        _, customers = reconcile_loaded(
            session, store, item.order, now, rows[item.order.platform_id], item.refunds, tiers.get
        )
        touched |= customers
    return touched
