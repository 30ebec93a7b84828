"""The journey's one rule, for the parcels of one store's orders (both follower paths and the late scan use it):

for each parcel, the states it has been in (states.parcel_states) that have no row yet are recorded; the highest of
them is sent when its rank is above every state the parcel already had and the store wants that message; the
others are recorded as superseded (the customer hears the latest news once, never old news after it). Recording
every state, sent or not, is what makes duplicates and shuffled events harmless: a state with a row is never
looked at again (`delivery_updates`' unique key), and the message's dedupe key `delivery:<fulfilment>:<state>`
guards the outbox too.

Sending: messaging's send_to_customer (the customer's channel, consent, quiet hours in the store's time zone
for a non-urgent message: `urgent=False`, and the per-customer daily cap: `capped=True`), purpose transactional.
The context names the order, the customer's first name, the order's items with their images (the line item's own,
else the product cache records/catalog keeps; no HTTP here) and the parcel's tracking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.journeys.models import DUE, NO_CUSTOMER, OFF, SENT, SUPERSEDED, DeliveryUpdate
from app.journeys.settings import get_settings, wanted
from app.journeys.states import RANK, parcel_states
from app.messaging.api import send_to_customer
from app.platform.sql import get_in_store
from app.records.catalog import order_product_ids, products_by_id
from app.records.models import Customer, Fulfillment, Order
from app.stores.models import Store

MAX_ITEMS = 10  # a message lists at most this many lines (a wholesale order's 200 lines are not an e-mail)


@dataclass(frozen=True, slots=True)
class Parcel:
    order: Order
    parcel: Fulfillment
    extra: frozenset[str] = frozenset()  # states the caller knows beyond the records (the late scan's delay)


def decide(
    session: Session, store: Store, parcels: Iterable[Parcel], held: Mapping[str, Sequence[DeliveryUpdate]]
) -> int:
    """Record the parcels' new states; `held` is their rows by fulfilment id. The number of messages due (written
    `due`: the scheduler step send_due queues them, so the inbox's batch pays for a row, not for a send)."""
    settings = get_settings(store)
    due = 0
    for item in parcels:
        parcel, order = item.parcel, item.order
        had = {row.state for row in held.get(parcel.platform_id, ())}
        new = (parcel_states(parcel) | item.extra) - had
        if not new:
            continue
        top = max((RANK.get(state, 0) for state in had), default=0)
        best = max(new, key=lambda state: RANK.get(state, 0))
        for state in sorted(new, key=lambda s: RANK.get(s, 0)):
            outcome = SUPERSEDED
            if state == best and RANK.get(state, 0) > top:
                if not wanted(settings, state) or order.cancelled_at or order.deleted_at:
                    outcome = OFF
                elif order.customer_id is None:
                    outcome = NO_CUSTOMER
                else:
                    outcome = DUE
            row = DeliveryUpdate(
                store_id=store.id,
                order_platform_id=order.platform_id,
                fulfillment_platform_id=parcel.platform_id,
                state=state,
                outcome=outcome,
            )
            session.add(row)
            due += outcome == DUE
    return due


def send(session: Session, store: Store, sends: list[tuple[Parcel, str, DeliveryUpdate]]) -> None:
    """Queue the due updates (the scheduler step, journeys/send.py), and mark them sent."""
    ids = [pid for item, _, _ in sends for pid in order_product_ids(item.order)]
    products = products_by_id(session, store.id, ids)  # one query for every message of the batch
    for item, state, row in sends:
        order = item.order
        assert order.customer_id is not None
        customer = get_in_store(session, Customer, order.customer_id, order.store_id)
        message = send_to_customer(
            session,
            store,
            customer_id=order.customer_id,
            template=f"delivery_{state}",
            context=context(order, item.parcel, customer, products),
            dedupe_key=f"delivery:{item.parcel.platform_id}:{state}",
            purpose="transactional",
            locale=order.locale,
            capped=True,
            urgent=False,  # news, not an alarm: held through the store's quiet hours, never dropped
        )
        row.message_id, row.outcome = message.id, SENT


def context(order: Order, parcel: Fulfillment, customer: Customer | None, products: Mapping[str, Any]) -> dict:
    items = []
    for line in (order.line_items or [])[:MAX_ITEMS]:
        product = products.get(str(line.get("product_id") or ""))
        image = line.get("image_url") or (product.image_url if product is not None and product.found else None)
        items.append(
            {
                "title": str(line.get("title") or (product.title if product is not None else "") or ""),
                "quantity": int(line.get("quantity") or 1),
                "image_url": image if isinstance(image, str) and image.startswith("https://") else None,
            }
        )
    eta = parcel.estimated_delivery_at
    return {
        "first_name": customer.first_name if customer else None,
        "order_name": order.name or order.platform_id,
        "items": items,
        "carrier": parcel.tracking_company,
        "tracking_number": parcel.tracking_number,
        "tracking_url": parcel.tracking_url,
        "estimated_delivery": eta.date().isoformat() if eta and parcel.delivered_at is None else None,
    }
