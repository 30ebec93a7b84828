"""Followers: the programmes that act on an order's facts once the records are current.

An order event (a snapshot, a deletion, a refund, a parcel, a carrier event) is recorded first (records/orders.py);
then every follower reconciles what it owns with the order as it now is: loyalty its points, referrals the
referral, reviews the review request, and the programmes still to come theirs. Each follower is a function of the
rows as they are (DESIGN.md, "Why events are snapshots"), which is what lets one delivery and a whole batch reach
the same state:
- one delivery: `order_changed` runs every follower's `reconcile(session, store, order)` right after it is recorded;
- a batch (inbox/batch.py): `order_changed` only marks the order; before the commit, inbox/batch_derived.py
  derives each marked order once and hands them all, with their refunds and parcels loaded, to every follower's
  `reconcile_many(session, store, loaded, now)`.
- a group of stores' parts (inbox/batch_group.py): `reconcile_group` hands every store's derived orders to each
  follower's `reconcile_group`, which reads its rows once for all the stores where it overrides it.
Both paths call the one list, in the one order: the order the features' init_app registered them in (create_app).
No follower checks which path it is on. An order placed before the store's history cut-off (records/history.py)
goes only to the followers whose `takes_past` says so, on both paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.records.history import Policy, policy
from app.records.models import Fulfillment, Order, OrderRefund
from app.records.orders import defer_order, find_order
from app.stores.models import Store
from connectors.events import order_platform_id


@dataclass(frozen=True, slots=True)
class LoadedOrder:
    """An order as the batch derived it, with its child rows (refunds ordered by platform id)."""

    order: Order
    refunds: list[OrderRefund]
    parcels: list[Fulfillment]


#: A store and its derived orders, as a group of stores hands them to the followers.
StoreOrders = tuple[Store, Sequence[LoadedOrder]]


class OrderFollower:
    """What a programme subclasses and registers, once, to follow orders."""

    name: str = ""

    def takes_past(self, policy: Policy) -> bool:
        """Whether this follower is handed orders placed before the store's history cut-off (records/history.py).
        None by default: a past order never starts a programme's work (a review request, a referral, a message)."""
        return False

    def reconcile(self, session: Session, store: Store, order: Order) -> None:
        """Bring what this programme owns for the order in line with it, in the caller's transaction."""
        raise NotImplementedError

    def reconcile_many(self, session: Session, store: Store, loaded: Sequence[LoadedOrder], now: datetime) -> None:
        """The same for many orders of one store whose rows are loaded: a batch's, before it commits."""
        raise NotImplementedError

    def reconcile_group(self, session: Session, stores: Sequence[StoreOrders], now: datetime) -> None:
        """The same for several stores whose locks the batch holds (an inbox group of stores,
        inbox/batch_group.py). Store by store by default; a follower that reads its rows per store overrides it
        to read them for all the stores at once (`store_id IN (...)`)."""
        for store, loaded in stores:
            self.reconcile_many(session, store, loaded, now)

    def settle(self, session: Session, store: Store, now: datetime) -> None:
        """In a batch, after every follower's reconcile_many: work this one deferred that the followers after it
        may have added to (loyalty: the accounts a referral reward marked). Nothing by default."""

    def settle_group(self, session: Session, stores: Sequence[Store], now: datetime) -> None:
        """settle for several stores whose locks the batch holds; store by store by default."""
        for store in stores:
            self.settle(session, store, now)


_FOLLOWERS: dict[str, OrderFollower] = {}


def register(follower: OrderFollower) -> None:
    """Add a follower after those registered before it (again under the same name: replaced in place, since
    create_app runs more than once in one process)."""
    _FOLLOWERS[follower.name] = follower


def followers() -> tuple[OrderFollower, ...]:
    return tuple(_FOLLOWERS.values())


def reconcile_many(session: Session, store: Store, loaded: Sequence[LoadedOrder], now: datetime) -> None:
    """The batch path: every follower on the store's derived orders, then every follower's deferred work."""
    found = policy(session, store.id)
    past = {id(item) for item in loaded if found.past(item.order)} if found is not None else set()
    present = [item for item in loaded if id(item) not in past] if past else loaded
    for follower in _FOLLOWERS.values():
        follower.reconcile_many(session, store, loaded if found and follower.takes_past(found) else present, now)
    for follower in _FOLLOWERS.values():
        follower.settle(session, store, now)


def reconcile_group(session: Session, stores: Sequence[StoreOrders], now: datetime) -> None:
    """reconcile_many for several stores (an inbox group, inbox/batch_group.py): every follower on every store's
    orders, then every follower's deferred work store by store. The same work as store by store, in another
    order across stores: a follower's work in one store reads and writes that store's rows only."""
    handed = []
    for store, loaded in stores:
        found = policy(session, store.id)
        past = {id(item) for item in loaded if found.past(item.order)} if found is not None else set()
        present = [item for item in loaded if id(item) not in past] if past else loaded
        handed.append((store, found, loaded, present))
    for follower in _FOLLOWERS.values():
        follower.reconcile_group(
            session,
            [
                (store, loaded if found and follower.takes_past(found) else present)
                for store, found, loaded, present in handed
            ],
            now,
        )
    for follower in _FOLLOWERS.values():
        follower.settle_group(session, [store for store, _ in stores], now)


def order_changed(session: Session, store: Store, event: Any) -> None:
    """The pipeline's step after record-keeping for every order event: run the followers now, or in a batch mark
    the order so that they run once for it before the batch commits."""
    platform_id = order_platform_id(event)
    if platform_id is None or defer_order(session, store, platform_id):
        return
    order = find_order(session, store, platform_id)
    if order is None:
        return  # a refund or a parcel before its order: the order's own event reconciles
    found = policy(session, store.id)
    for follower in _FOLLOWERS.values():
        if found is None or not found.past(order) or follower.takes_past(found):
            follower.reconcile(session, store, order)
