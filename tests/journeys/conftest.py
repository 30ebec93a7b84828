"""Builders for the delivery journey's tests: a store's webhooks (Shopify orders, fulfilments and carrier events;
WooCommerce orders and their completion), posted signed to the app as the platforms send them."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from sqlalchemy import select

from app.extensions import db
from tests.helpers import dumps, fixture_json, shopify_headers, shopify_order, woo_headers

T0 = "2026-11-02T09:00:00+00:00"


def enable_updates(store, **switches: bool) -> None:
    """The journey on (and each message as given), written through the settings registry as the admin API does."""
    from app.stores.settings import update_store_settings

    update_store_settings(db.session, store, {"delivery_updates": {"enabled": True, **switches}})
    db.session.commit()


def fulfillment(order_id: int, fulfillment_id: int, **extra: Any) -> dict[str, Any]:
    payload = fixture_json("shopify", "fulfillments_create")
    payload.update(
        id=fulfillment_id, order_id=order_id, status="success", shipment_status=None, created_at=T0, updated_at=T0,
        tracking_company="UPS", tracking_number=f"1Z{fulfillment_id}", tracking_numbers=[f"1Z{fulfillment_id}"],
        tracking_url=f"https://www.ups.com/track?tracknum=1Z{fulfillment_id}",
    )  # fmt: skip
    payload.update(extra)
    return payload


def carrier_event(order_id: int, fulfillment_id: int, event_id: int, status: str, **extra: Any) -> dict[str, Any]:
    payload = fixture_json("shopify", "fulfillment_events_create")
    payload.update(
        id=event_id, order_id=order_id, fulfillment_id=fulfillment_id, status=status, happened_at=T0, created_at=T0
    )
    payload.update(extra)
    return payload


def woo_order(order_id: int, *, completed: bool, modified: str, email: str = "wanda@example.com") -> dict[str, Any]:
    payload = copy.deepcopy(fixture_json("woocommerce", "order"))
    payload.update(
        id=order_id, number=str(order_id), status="completed" if completed else "processing",
        date_modified_gmt=modified, date_completed_gmt=modified if completed else None,
        date_completed=modified if completed else None,
    )  # fmt: skip
    payload["billing"] = {**payload["billing"], "email": email}
    return payload


def post_shopify(client, topic: str, payload: dict[str, Any], event_id: str | None = None) -> None:
    body = dumps(payload)
    response = client.post("/webhooks/shopify", data=body, headers=shopify_headers(topic, body, event_id=event_id))
    assert response.status_code == 200, response.data


def post_woo(client, topic: str, payload: dict[str, Any]) -> None:
    body = dumps(payload)
    response = client.post("/webhooks/woocommerce", data=body, headers=woo_headers(topic, body))
    assert response.status_code == 200, response.data


def delivery_messages(app) -> list[tuple[str, str]]:
    """The delivery updates queued, (fulfilment id, state), in the order they were queued."""
    from app.journeys.send import send_due
    from app.messaging.api import Message

    send_due(app)  # the scheduler step that queues what the journey decided
    with app.app_context():
        keys = db.session.scalars(
            select(Message.dedupe_key).where(Message.dedupe_key.like("delivery:%")).order_by(Message.id)
        ).all()
        db.session.remove()
    return [tuple(key.split(":")[1:3]) for key in keys]  # type: ignore[misc]


def new_event_id() -> str:
    return uuid.uuid4().hex


__all__ = ["shopify_order"]


#: WooCommerce tracking as the common plugins write it (connectors/woocommerce_tracking.py reads these keys), and
#: the steps an order goes through with each: 0 paid (no parcel), 1 tracking added (ships it), 2 completed,
#: 3 marked delivered. "none" has no tracking plugin: completion alone ships the parcel.
WOO_PATHS = {"none": (0, 2), "ast": (0, 1, 2, 3), "yith": (0, 1, 2), "ppe": (0, 1, 2, 3)}
#: The plugins that carry TrackShip's statuses (its meta, or our plugin's field): their parcels go out for delivery.
TRACKSHIP_PLUGINS = ("ast", "ppe")


def woo_tracking_number(order_id: int, plugin: str) -> str | None:
    return None if plugin == "none" else f"{plugin.upper()}{order_id}00"


def woo_parcel_snapshot(order_id: int, plugin: str, step: int) -> dict[str, Any]:
    """The order as WooCommerce's webhook sends it at that step (date_modified rises with the step)."""
    modified = f"2026-11-0{2 + step}T10:00:00"
    payload = woo_order(order_id, completed=step >= 2, modified=modified, email=f"w{order_id}@example.com")
    number, delivered = woo_tracking_number(order_id, plugin), step >= 3
    # TrackShip's word for the parcel: in transit once tracked, out for delivery once completed, then delivered.
    trackship = "delivered" if delivered else "out_for_delivery" if step >= 2 else "in_transit"
    meta = list(payload["meta_data"])
    if step >= 1 and plugin == "ast":  # Shipment Tracking / AST items, and TrackShip's status with its promise
        meta.append({"id": 9001, "key": "_wc_shipment_tracking_items", "value": [{
            "tracking_provider": "usps", "custom_tracking_provider": "", "custom_tracking_link": "",
            "tracking_number": number, "date_shipped": "1793613600", "tracking_id": f"t{order_id}"}]})  # fmt: skip
        meta.append({"id": 9002, "key": "shipment_status", "value": [{
            "status": trackship, "status_date": "2026-11-03 10:00:00",
            "est_delivery_date": "2026-11-06"}]})  # fmt: skip
        if delivered:
            payload["status"] = "delivered"  # AST's custom status (wc-delivered), sent without its prefix
    elif step >= 1 and plugin == "yith":
        meta += [
            {"id": 9003, "key": "ywot_tracking_code", "value": number},
            {"id": 9004, "key": "ywot_carrier_name", "value": "DHL"},
            {"id": 9005, "key": "ywot_pick_up_date", "value": "2026-11-03"},
        ]
    elif step >= 1 and plugin == "ppe":  # our plugin's normalised field (TrackShip's status per shipment)
        shipment = {
            "id": f"s{order_id}", "carrier": "UPS", "number": number, "shipped_at": "2026-11-03T08:00:00+00:00",
            "url": f"https://www.ups.com/track?tracknum={number}", "status": trackship,
        }  # fmt: skip
        when = "2026-11-05T12:00:00+00:00" if delivered else None
        payload["ppe_tracking"] = {"version": 1, "delivered_at": when, "shipments": [shipment]}
    payload["meta_data"] = meta
    return payload
