"""The derived work of a batch, once per dirty order and customer, just before the batch commits.

Every order event used to recompute, at once, what is derived from the order's rows: its refunded
amount and fulfilment dates (orders.refresh_order), its points (loyalty_orders.reconcile_order, then
the owner's account), its referral and its review request (review_requests.reconcile). Each of those is a pure
function of the rows as they are (DESIGN.md, "Why events are snapshots"), so running it once after
the batch's last delivery for the order gives what running it after every delivery gives: a stream
has ~6 deliveries per order, and a batch of 100 carries several per order.

While a batch is applied (inbox/batch.py) the handlers only mark the order
(orders.defer_order) and the customer (orders.refresh_customer); run_deferred() then, per store:
1. loads the dirty orders, their refunds and fulfilments (one query per table) and derives each order;
2. recomputes the totals of the customers touched (theirs included), two queries in all;
3. loads the orders' ledger rows and the owners' tiers, reconciles the points, then refreshes every
   account touched once (three queries);
4. reconciles each order's referral (attribution, voiding, the reward's due date: referrals/orders.py);
5. loads the orders' review requests and reconciles them on the fulfilments already loaded.
No FOR UPDATE: the batch holds the store's advisory lock (inbox/processing.lock_store), which serialises
every writer of the store's rows (the scheduler's loyalty and review steps take it too).
A delivery rolled back by its SAVEPOINT may have marked an order: deriving it anyway is harmless (the
result depends only on the rows). If this work fails, the caller rolls the batch back and applies its
deliveries one by one, each with its derived work inline.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.compliance.service import REDACTED_IDS
from app.inbox import batch_rows
from app.loyalty.ledger import refresh_accounts
from app.loyalty.models import LoyaltyAccount, PointsLedger
from app.loyalty.orders import reconcile_loaded as reconcile_points
from app.loyalty.refresh import DEFERRED_ACCOUNTS
from app.platform.sql import in_keys
from app.platform.types import utcnow
from app.records import orders
from app.records.models import Fulfillment, Order, OrderRefund
from app.referrals.orders import reconcile_order as reconcile_referral
from app.reviews.models.review import ReviewRequest
from app.reviews.requests import reconcile_loaded as reconcile_review
from app.stores.models import Store

_BATCH_KEYS = (orders.DIRTY_ORDERS, orders.DEFERRED_REFRESH, orders.DELETION_MARKERS, REDACTED_IDS, DEFERRED_ACCOUNTS)


def start(session: Session) -> None:
    """Batch mode: the handlers defer (dirty sets) and look up per-store sets loaded once (dicts)."""
    session.info[orders.DIRTY_ORDERS] = set()
    session.info[orders.DEFERRED_REFRESH] = set()
    session.info[orders.DELETION_MARKERS] = {}
    session.info[REDACTED_IDS] = {}
    session.info[DEFERRED_ACCOUNTS] = set()


def stop(session: Session) -> None:
    for key in _BATCH_KEYS:
        session.info.pop(key, None)


def run_deferred(session: Session, store: Store, now: datetime | None = None) -> None:
    """The store's deferred work; the caller holds the store's lock and commits."""
    now = now or utcnow()
    dirty: set[tuple[int, str]] = session.info.get(orders.DIRTY_ORDERS) or set()
    pids = sorted(pid for sid, pid in dirty if sid == store.id)
    dirty.difference_update((store.id, pid) for pid in pids)
    loaded: list[tuple[Order, list[OrderRefund], list[Fulfillment]]] = []
    for chunk in orders.chunks(pids):
        loaded += _derive_orders(session, store, chunk)
    deferred = session.info.get(orders.DEFERRED_REFRESH)
    if deferred is not None:
        deferred.update((store.id, o.customer_id) for o, _, _ in loaded if o.customer_id is not None)
    orders.refresh_deferred_customers(session, store)
    accounts: set[int] = set()
    for chunk in orders.chunks(loaded):
        accounts |= _reconcile_points(session, store, chunk, now)
    _refresh_accounts(session, store, accounts, now)
    batch_rows.preload_referrals(session, store.id, [order for order, _, _ in loaded])
    for order, _, _ in loaded:  # after the points: a referral reads the order's derived delivery dates
        reconcile_referral(session, store, order)
    for chunk in orders.chunks(loaded):
        _reconcile_reviews(session, store, chunk)
    _refresh_accounts(session, store, set(), now)  # any marked after the accounts step
    session.flush()


def _refresh_accounts(session: Session, store: Store, accounts: set[int], now: datetime) -> None:
    """These accounts and those the batch's handlers marked (loyalty_refresh.refresh_account: action rewards,
    guest merges, released holds), each refreshed once."""
    marked: set[tuple[int, int]] = session.info.get(DEFERRED_ACCOUNTS) or set()
    due = {(sid, cid) for sid, cid in marked if sid == store.id}
    marked.difference_update(due)
    accounts |= {cid for _, cid in due}
    if accounts:
        refresh_accounts(session, store, accounts, now)


def _derive_orders(session: Session, store: Store, pids) -> list[tuple[Order, list[OrderRefund], list[Fulfillment]]]:
    found = session.scalars(
        select(Order).where(Order.store_id == store.id, in_keys(session, Order.platform_id, pids))
    ).all()
    refunds: dict[str, list[OrderRefund]] = defaultdict(list)
    for refund in session.scalars(
        select(OrderRefund)
        .where(OrderRefund.store_id == store.id, in_keys(session, OrderRefund.order_platform_id, pids))
        .order_by(OrderRefund.platform_id)
    ):
        refunds[refund.order_platform_id].append(refund)
    parcels: dict[str, list[Fulfillment]] = defaultdict(list)
    for row in session.scalars(
        select(Fulfillment).where(
            Fulfillment.store_id == store.id, in_keys(session, Fulfillment.order_platform_id, pids)
        )
    ):
        parcels[row.order_platform_id].append(row)
    out = []
    for order in sorted(found, key=lambda o: o.platform_id):
        mine, theirs = refunds[order.platform_id], parcels[order.platform_id]
        orders.derive_order(order, [r.amount for r in mine], theirs)
        out.append((order, mine, theirs))
    return out


def _reconcile_points(session: Session, store: Store, loaded, now: datetime) -> set[int]:
    pids = [order.platform_id for order, _, _ in loaded]
    rows: dict[str, list[PointsLedger]] = defaultdict(list)
    for row in session.scalars(
        select(PointsLedger)
        .where(PointsLedger.store_id == store.id, in_keys(session, PointsLedger.order_platform_id, pids))
        .order_by(PointsLedger.id)
    ):
        rows[row.order_platform_id].append(row)  # type: ignore[index]
    owners = {o.customer_id for o, _, _ in loaded if o.customer_id is not None}
    owners |= {r.customer_id for held in rows.values() for r in held}
    tiers = dict(
        session.execute(
            select(LoyaltyAccount.customer_id, LoyaltyAccount.tier).where(
                LoyaltyAccount.store_id == store.id, in_keys(session, LoyaltyAccount.customer_id, sorted(owners))
            )
        ).all()
    )
    touched: set[int] = set()
    for order, refunds, _ in loaded:
        _, customers = reconcile_points(session, store, order, now, rows[order.platform_id], refunds, tiers.get)
        touched |= customers
    return touched


def _reconcile_reviews(session: Session, store: Store, loaded) -> None:
    pids = [order.platform_id for order, _, _ in loaded]
    requests: dict[str, list[ReviewRequest]] = defaultdict(list)
    for request in session.scalars(
        select(ReviewRequest).where(
            ReviewRequest.store_id == store.id, in_keys(session, ReviewRequest.order_platform_id, pids)
        )
    ):
        requests[request.order_platform_id].append(request)
    for order, _, parcels in loaded:
        reconcile_review(session, store, order, requests[order.platform_id], parcels)
