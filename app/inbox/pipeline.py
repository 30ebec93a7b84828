"""The pipeline: which handlers run, in order, for each platform-neutral event.

Each handler takes (session, store, event) and writes in the caller's
transaction, so one delivery's effects commit together or not at all. Later
features (loyalty, referrals, reviews, notifications) append their handlers
after the record-keeping ones, which must run first: they build the customer
and order rows the others read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.compliance import service as compliance
from app.loyalty.orders import on_customer_changed
from app.loyalty.orders import on_order_event as loyalty_order_event
from app.loyalty.redemptions import on_order_event as redemption_order_event
from app.records import orders
from app.records.customers import resolve_customer
from app.referrals import orders as referral_orders
from app.reviews.requests import on_order_event as review_order_event
from app.stores import service as stores
from app.stores import uninstall
from app.stores.models import Store
from connectors.events import (
    AppUninstalled,
    CustomerChanged,
    Event,
    FulfillmentChanged,
    OrderChanged,
    OrderDeleted,
    RefundCreated,
    ShipmentEvent,
)

log = logging.getLogger(__name__)

Handler = Callable[[Session, Store, Any], Any]


def _customer_changed(session: Session, store: Store, event: CustomerChanged) -> None:
    customer = resolve_customer(session, store, event.customer)
    if customer is not None:
        orders.refresh_customer(session, store, customer)


#: After record-keeping, every order event runs the features that follow the order's state, in this order.
ORDER_FOLLOWERS: tuple[Handler, ...] = (
    loyalty_order_event,  # points reconciled with the order as recomputed (loyalty/orders.py)
    referral_orders.on_order_event,  # a friend's first paid order attributed, voided on refund, reward due
    review_order_event,  # the review request's due date, or its cancellation (reviews/requests.py)
)

PIPELINE: dict[type, tuple[Handler, ...]] = {
    # 1. keep the order and its customer current (stale snapshots are ignored inside)
    # then the features that follow the order's state (ORDER_FOLLOWERS, above); order snapshots and deletions
    # also settle redemptions: a reward's code seen on the order marks it used, its cancellation refunds the points
    OrderChanged: (orders.apply_order, compliance.erase_if_tombstone, *ORDER_FOLLOWERS, redemption_order_event),
    OrderDeleted: (orders.delete_order, *ORDER_FOLLOWERS, redemption_order_event),
    # 2. money back and parcels out: child rows, then the order's derived dates, then the followers
    RefundCreated: (lambda s, st, e: orders.apply_refund(s, st, e.refund), *ORDER_FOLLOWERS),
    FulfillmentChanged: (lambda s, st, e: orders.apply_fulfillment(s, st, e.fulfillment), *ORDER_FOLLOWERS),
    ShipmentEvent: (orders.apply_shipment_event, *ORDER_FOLLOWERS),
    # 3. profile changes, guest-to-account merges (points move with the guest), the signup reward
    CustomerChanged: (_customer_changed, compliance.erase_if_tombstone, on_customer_changed),
    # 4. an erased customer stays erased: a late snapshot must not refill the tombstone (compliance)
    # 5. store lifecycle: stop acting for the store, drop its tokens, cancel queued work
    AppUninstalled: (stores.mark_uninstalled, uninstall.on_uninstalled),
}


def dispatch(session: Session, store: Store, event: Event, received_at: datetime) -> None:
    if isinstance(event, AppUninstalled) and received_at < store.installed_at:
        # An uninstall that was delivered late, after the merchant reinstalled.
        log.info("dispatch.stale_uninstall", extra={"store_id": store.id})
        return
    handlers = PIPELINE.get(type(event))
    if handlers is None:
        log.info("dispatch.no_handler", extra={"event": type(event).__name__, "store_id": store.id})
        return
    for handler in handlers:
        handler(session, store, event)
