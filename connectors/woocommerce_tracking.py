"""Shipment facts WooCommerce's order webhook has no field for: tracking numbers and a "delivered" mark.

WooCommerce itself has no fulfilment resource (connectors/woocommerce_snapshots.py makes one parcel per order from
`date_completed`). Tracking lives in the order meta of shipment-tracking plugins, and the order REST answer (the
same JSON a webhook carries) lists an order's meta in `meta_data`, underscore keys included: the REST controller
filters only `include_meta`/`exclude_meta`, and the data store leaves out only WooCommerce's own internal keys
(https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties). What we read, first found wins:

1. `ppe_tracking` (top level): our WordPress plugin adds it to the order's REST answer
   (extensions/woocommerce/ppe-rewards/includes/class-ppe-rewards-tracking.php), already normalised:
   `{"version": 1, "shipments": [{"id", "carrier", "number", "url", "shipped_at", "status"}], "delivered_at"}`.
   It carries what the meta lacks: the provider's tracking link built by the tracking plugin, and the moment the
   order was marked delivered.
2. Meta `_wc_shipment_tracking_items`: WooCommerce Shipment Tracking and Advanced Shipment Tracking (AST) store a
   list of `{tracking_provider, custom_tracking_provider, tracking_number, custom_tracking_link, date_shipped
   (unix seconds), tracking_id}` (https://woocommerce.com/document/shipment-tracking/). A predefined provider's
   link is not stored (the plugin builds it from its provider table), so only custom links come through here.
3. Meta `ywot_tracking_code`, `ywot_carrier_name`, `ywot_pick_up_date` (Y-m-d): YITH WooCommerce Order &
   Shipment Tracking.

Promised delivery: meta `shipment_status`, which TrackShip for WooCommerce (AST's tracking service) writes from its
tracking webhook: a list aligned with `_wc_shipment_tracking_items`, each `{status, status_date, est_delivery_date
(Y-m-d, the carrier's estimate, present only when the carrier gave one), tracking_events, ...}`
(trackship/trackship-for-woocommerce, its REST controller's tracking_webhook). The parcel's promise is the latest
`est_delivery_date` of its shipments not yet `delivered`, read as the end of that day in UTC (the date has no time
and no zone, so a parcel is never called late while its promised day may still be running). Read whichever source
gave the tracking, since our plugin's `ppe_tracking` does not carry it. Shipment Tracking, AST without TrackShip and
YITH store no promised date: their parcels never count as late (docs/delivery-and-recovery.md).

"Delivered": the order status `delivered` (AST's custom status `wc-delivered`, sent without its prefix), or our
plugin's `delivered_at`, or every shipment's `status` delivered (TrackShip, through our plugin or its meta).

Carrier status: TrackShip's shipment statuses (its install's list: in_transit, available_for_pickup,
out_for_delivery, failure, on_hold, exception, return_to_sender, delivered) in the words of Shopify's
FulfillmentEventStatus, which records and the journey read (TRACKSHIP_STATUS), so a WooCommerce parcel can be out
for delivery, failed or delayed as a Shopify one is. With shipments at different steps the parcel takes the news the
customer most needs first (a failure before an out-for-delivery before a transit).

Everything here comes from other plugins' data, so it is parsed leniently: a field that is not a valid string,
URL or date is left out, never a reason to refuse the order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from . import parsing as p
from .catalog import web_url
from .events import Tracking
from .exceptions import MalformedPayload

TRACKING_FIELD = "ppe_tracking"
SHIPMENT_TRACKING_META = "_wc_shipment_tracking_items"
YITH_CODE, YITH_CARRIER, YITH_DATE = "ywot_tracking_code", "ywot_carrier_name", "ywot_pick_up_date"
TRACKSHIP_META = "shipment_status"
DELIVERED_STATUS = "delivered"
MAX_SHIPMENTS = 20
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: TrackShip status -> Shopify carrier status. exception and on_hold are a carrier's hold-up, which Shopify calls
#: delayed; return_to_sender will not reach the customer: a failure. pre_transit, unknown and the rest say no more
#: than "shipped".
TRACKSHIP_STATUS = {
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "available_for_pickup": "ready_for_pickup",
    "failure": "failure",
    "return_to_sender": "failure",
    "exception": "delayed",
    "on_hold": "delayed",
    "delivered": DELIVERED_STATUS,
}
_NEWS_FIRST = ("failure", "out_for_delivery", "ready_for_pickup", "delayed", "in_transit")


@dataclass(frozen=True)
class ShipmentFacts:
    tracking: tuple[Tracking, ...]
    shipped_at: datetime | None  # the earliest shipment's date, when a tracking plugin recorded one
    delivered: bool
    delivered_at: datetime | None  # when it was marked delivered, if known (else the caller's modified date)
    estimated_delivery_at: datetime | None = None  # the carrier's promise (TrackShip), the end of that day in UTC
    carrier_status: str | None = None  # TrackShip's word for the parcel, as Shopify's carrier statuses


def _when(value: Any) -> datetime | None:
    """Unix seconds (Shipment Tracking's date_shipped), Y-m-d (YITH) or ISO 8601 with an offset (our plugin)."""
    try:
        if (isinstance(value, int | float) and not isinstance(value, bool)) or (
            isinstance(value, str) and value.isdigit()
        ):
            seconds = int(value)
            return datetime.fromtimestamp(seconds, UTC) if 0 < seconds < 4102444800 else None
        if isinstance(value, str) and _DATE.fullmatch(value.strip()):
            return p.timestamp(value.strip() + "T00:00:00", "date", assume_utc=True)
        return p.timestamp(value, "date") if isinstance(value, str) else None
    except (MalformedPayload, ValueError, OverflowError, OSError):
        return None


def _link(template: Any, number: str | None) -> str | None:
    """A custom link may hold Shipment Tracking's `%1$s` placeholder for the number."""
    if not isinstance(template, str):
        return None
    return web_url(template.replace("%1$s", quote(number or "", safe=""))) if "%1$s" in template else web_url(template)


def _meta(data: p.JSONObject, key: str) -> Any:
    items = data.get("meta_data")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("key") == key:
            return item.get("value")
    return None


def _ours(value: Any) -> tuple[list[tuple[Tracking, datetime | None]], datetime | None, bool]:
    shipments, all_delivered = [], True
    for item in (value.get("shipments") if isinstance(value.get("shipments"), list) else [])[:MAX_SHIPMENTS]:
        if not isinstance(item, dict):
            continue
        number = p.tracking_number(item.get("number"))
        tracking = Tracking(
            carrier=p.lenient_text(item.get("carrier"), 64), number=number, url=_link(item.get("url"), number)
        )
        if tracking.number or tracking.url:
            shipments.append((tracking, _when(item.get("shipped_at"))))
            all_delivered = all_delivered and item.get("status") == DELIVERED_STATUS
    return shipments, _when(value.get("delivered_at")), bool(shipments) and all_delivered


def _shipment_tracking(value: Any) -> list[tuple[Tracking, datetime | None]]:
    shipments = []
    for item in (value if isinstance(value, list) else [])[:MAX_SHIPMENTS]:
        if not isinstance(item, dict):
            continue
        number = p.tracking_number(item.get("tracking_number"))
        carrier = p.lenient_text(item.get("custom_tracking_provider"), 64) or p.lenient_text(
            item.get("tracking_provider"), 64
        )
        tracking = Tracking(carrier=carrier, number=number, url=_link(item.get("custom_tracking_link"), number))
        if tracking.number:
            shipments.append((tracking, _when(item.get("date_shipped"))))
    return shipments


def _promised(value: Any) -> datetime | None:
    """The latest `est_delivery_date` of TrackShip's shipments not delivered yet (a PHP array arrives as a JSON
    list, or as an object when its keys are not 0..n-1), as the end of that day in UTC."""
    days = []
    for item in _items(value):
        if not isinstance(item, dict) or item.get("status") == DELIVERED_STATUS:
            continue
        raw = item.get("est_delivery_date")
        if isinstance(raw, str) and _DATE.fullmatch(raw.strip()) and (day := _when(raw.strip())) is not None:
            days.append(day)
    return max(days) + timedelta(days=1) if days else None


def _items(value: Any) -> list[Any]:
    """A PHP array arrives as a JSON list, or as an object when its keys are not 0..n-1."""
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return list(items)[:MAX_SHIPMENTS]


def _carrier_status(value: Any) -> str | None:
    mapped = [
        TRACKSHIP_STATUS[item["status"]]
        for item in _items(value)
        if isinstance(item, dict) and isinstance(item.get("status"), str) and item["status"] in TRACKSHIP_STATUS
    ]
    if mapped and all(status == DELIVERED_STATUS for status in mapped):
        return DELIVERED_STATUS
    return next((status for status in _NEWS_FIRST if status in mapped), None)


def shipment_facts(data: p.JSONObject, status: str) -> ShipmentFacts:
    ours = data.get(TRACKING_FIELD)
    delivered_at, every_parcel_delivered = None, False
    if isinstance(ours, dict):
        shipments, delivered_at, every_parcel_delivered = _ours(ours)
    else:
        shipments = _shipment_tracking(_meta(data, SHIPMENT_TRACKING_META))
        if not shipments and (number := p.tracking_number(_meta(data, YITH_CODE))):
            shipments = [
                (Tracking(p.lenient_text(_meta(data, YITH_CARRIER), 64), number, None), _when(_meta(data, YITH_DATE)))
            ]
    dates = [when for _, when in shipments if when is not None]
    trackship = _meta(data, TRACKSHIP_META)
    carrier_status = _carrier_status(trackship) or (
        _carrier_status(ours.get("shipments")) if isinstance(ours, dict) else None
    )
    return ShipmentFacts(
        tracking=tuple(t for t, _ in shipments),
        shipped_at=min(dates) if dates else None,
        delivered=status == DELIVERED_STATUS
        or delivered_at is not None
        or every_parcel_delivered
        or carrier_status == DELIVERED_STATUS,
        delivered_at=delivered_at,
        estimated_delivery_at=_promised(trackship),
        carrier_status=carrier_status,
    )
