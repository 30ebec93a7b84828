"""The pipeline: which handlers run, in order, for each platform-neutral event.

Each handler takes (session, store, event) and writes in the caller's transaction, so one delivery's effects
commit together or not at all. For every event, in this order:
1. record-keeping (below): the customer and order rows everything after it reads;
2. guards the features register (stage "guard"): compliance keeps an erased account erased;
3. for order events, the followers (records/followers.order_changed: loyalty, referrals, reviews, ... each
   reconciles with the order as recorded; in a batch, once per order before the commit);
4. what the features register to run after the followers (stage "after"): a redemption's code seen on an
   order, the signup reward of a new account.
Features register in their init_app (`on(EventType, handler, stage=...)`); this module names none of them.
An event that is a request to act on its own rather than a fact to record (a privacy request) goes to the one
handler registered for it with `on_delivery`, which also gets the delivery (compliance keeps its id and body).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from app.records import followers, orders
from app.records.customers import resolve_customer
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
Stage = Literal["guard", "after"]


def _customer_changed(session: Session, store: Store, event: CustomerChanged) -> None:
    customer = resolve_customer(session, store, event.customer)
    if customer is not None:
        orders.refresh_customer(session, store, customer)


#: Step 1 for every event: keep the records current (stale snapshots are ignored inside); child rows (refunds,
#: parcels, carrier events) also recompute the order's derived amounts and dates. An uninstall stops acting for
#: the store, drops its tokens and runs the uninstall hooks (stores/uninstall.py).
RECORD_KEEPING: dict[type, tuple[Handler, ...]] = {
    OrderChanged: (orders.apply_order,),
    OrderDeleted: (orders.delete_order,),
    RefundCreated: (lambda s, st, e: orders.apply_refund(s, st, e.refund),),
    FulfillmentChanged: (lambda s, st, e: orders.apply_fulfillment(s, st, e.fulfillment),),
    ShipmentEvent: (orders.apply_shipment_event,),
    CustomerChanged: (_customer_changed,),
    AppUninstalled: (stores.mark_uninstalled, uninstall.on_uninstalled),
}
#: The events about one order: step 3 runs the order's followers after them.
ORDER_EVENTS = (OrderChanged, OrderDeleted, RefundCreated, FulfillmentChanged, ShipmentEvent)

_REGISTERED: dict[Stage, dict[type, list[Handler]]] = {"guard": {}, "after": {}}

#: What dispatch() runs per event type, built from the steps above and the registrations.
PIPELINE: dict[type, tuple[Handler, ...]] = {}


def on(event_type: type, handler: Handler, *, stage: Stage) -> None:
    """Run `handler` for every `event_type` at `stage`, after the handlers registered there before it (once: create_app
    runs more than once in one process)."""
    handlers = _REGISTERED[stage].setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)
    _build()


def guards(event_type: type) -> tuple[Handler, ...]:
    """The guards registered for `event_type` (the bulk history path runs them after its own record-keeping)."""
    return tuple(_REGISTERED["guard"].get(event_type, ()))


def after(event_type: type) -> tuple[Handler, ...]:
    """The handlers registered after the followers for `event_type` (the customers' bulk history path runs them
    after its own record-keeping: the signup reward)."""
    return tuple(_REGISTERED["after"].get(event_type, ()))


DeliveryHandler = Callable[[Session, Store, Any, Any], Any]
_DELIVERY_HANDLERS: dict[type, DeliveryHandler] = {}


def on_delivery(event_type: type, handler: DeliveryHandler) -> None:
    """Hand every `event_type` to handler(session, store, event, delivery) instead of the pipeline."""
    _DELIVERY_HANDLERS[event_type] = handler


def apply_event(session: Session, store: Store, event: Event, delivery: Any) -> None:
    """One parsed event of a delivery: to its delivery handler if it has one, else through the pipeline."""
    handler = _DELIVERY_HANDLERS.get(type(event))
    if handler is not None:
        handler(session, store, event, delivery)
    else:
        dispatch(session, store, event, delivery.received_at)


def _build() -> None:
    PIPELINE.clear()
    for event_type in {*RECORD_KEEPING, *_REGISTERED["guard"], *_REGISTERED["after"]}:
        PIPELINE[event_type] = (
            *RECORD_KEEPING.get(event_type, ()),
            *_REGISTERED["guard"].get(event_type, ()),
            *((followers.order_changed,) if event_type in ORDER_EVENTS else ()),
            *_REGISTERED["after"].get(event_type, ()),
        )


_build()


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
