"""Loyalty as an order follower: an order's points reconciled with the order, one order or a batch's at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.account_rows import refresh_set_based
from app.loyalty.models import LoyaltyAccount, PointsLedger
from app.loyalty.orders import reconcile_loaded, reconcile_order
from app.loyalty.refresh import DEFERRED_ACCOUNTS, IMPORTED_ACCOUNTS, refresh_accounts_of
from app.platform.sql import chunks, in_keys
from app.records import batch_scope
from app.records.followers import LoadedOrder, OrderFollower, StoreOrders
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
        self.reconcile_group(session, [(store, loaded)], now)

    def reconcile_group(self, session: Session, stores: Sequence[StoreOrders], now: datetime) -> None:
        """reconcile_many for several stores at once: the same queries, each for all the stores (`store_id IN
        (...)`, rows kept by (store, order) and by customer id, the table's own)."""
        by_id = {store.id: store for store, _ in stores}
        accounts: set[tuple[int, int]] = set()
        for part in chunks([(store, item) for store, loaded in stores for item in loaded]):
            accounts |= _reconcile_points(session, part, now)
        _refresh_accounts(session, by_id, accounts, now)

    def settle(self, session: Session, store: Store, now: datetime) -> None:
        self.settle_group(session, [store], now)

    def settle_group(self, session: Session, stores: Sequence[Store], now: datetime) -> None:
        _refresh_accounts(session, {s.id: s for s in stores}, set(), now)  # marked after reconcile_many (a reward)


def _refresh_accounts(
    session: Session, stores: dict[int, Store], accounts: set[tuple[int, int]], now: datetime
) -> None:
    """These (store id, customer id) and those the batch's handlers marked (loyalty/refresh.refresh_account:
    action rewards, guest merges, released holds), each refreshed once; then those a history import's chunk
    marked (loyalty/imported_orders.py) and not refreshed here, by statements (loyalty/account_rows.py)."""
    batch = batch_scope.current(session)
    marked: set[tuple[int, int]] = batch.marks(DEFERRED_ACCOUNTS) if batch is not None else set()
    due = {(sid, cid) for sid, cid in marked if sid in stores}
    marked.difference_update(due)
    accounts |= due
    if accounts:
        refresh_accounts_of(session, stores, accounts, now)
    imported: set[tuple[int, int]] = batch.marks(IMPORTED_ACCOUNTS) if batch is not None else set()
    due = {(sid, cid) for sid, cid in imported if sid in stores}
    imported.difference_update(due)
    for store_id in sorted({sid for sid, _ in due - accounts}):
        refresh_set_based(session, stores[store_id], {c for s, c in due - accounts if s == store_id}, now)


def _reconcile_points(
    session: Session, loaded: Sequence[tuple[Store, LoadedOrder]], now: datetime
) -> set[tuple[int, int]]:
    store_ids = sorted({store.id for store, _ in loaded})
    pids = sorted({item.order.platform_id for _, item in loaded})
    rows: dict[tuple[int, str], list[PointsLedger]] = defaultdict(list)
    for row in session.scalars(
        select(PointsLedger)
        .where(
            in_keys(session, PointsLedger.store_id, store_ids), in_keys(session, PointsLedger.order_platform_id, pids)
        )
        .order_by(PointsLedger.id)
    ):
        rows[row.store_id, row.order_platform_id].append(row)  # type: ignore[index]  # rows that name an order
    owners = {item.order.customer_id for _, item in loaded if item.order.customer_id is not None}
    owners |= {r.customer_id for held in rows.values() for r in held}
    tiers = dict(
        session.execute(
            select(LoyaltyAccount.customer_id, LoyaltyAccount.tier).where(
                in_keys(session, LoyaltyAccount.store_id, store_ids),
                in_keys(session, LoyaltyAccount.customer_id, sorted(owners)),
            )
        )
        .tuples()  # typing only (the same Result at run time): rows as (customer_id, tier) pairs for dict()
        .all()
    )
    touched: set[tuple[int, int]] = set()
    for store, item in loaded:
        _, customers = reconcile_loaded(
            session, store, item.order, now, rows[store.id, item.order.platform_id], item.refunds, tiers.get
        )
        touched |= {(store.id, cid) for cid in customers}
    return touched
