"""Tracking numbers and "delivered" from WooCommerce order payloads (connectors/woocommerce_tracking.py), on the
payloads of tests/fixtures/woocommerce (Shipment Tracking / AST meta, our plugin's ppe_tracking, YITH's meta)."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors import get_connector
from connectors.events import Tracking
from tests.helpers import fixture_json

woo = get_connector("woocommerce")
shopify = get_connector("shopify")


def _parcel(payload):
    [event] = woo.parse_event("order.updated", payload)
    return event.order, event.order.fulfillments


def test_shipment_tracking_meta_becomes_the_orders_parcel_tracking():
    order, [parcel] = _parcel(fixture_json("woocommerce", "order_shipment_tracking"))
    assert parcel.platform_id == "727-completed" and parcel.status == "success"
    # A predefined provider's link is not stored in the meta; a custom one's is, with the number put in.
    assert parcel.tracking == (
        Tracking(carrier="usps", number="9400111899560000000000", url=None),
        Tracking(
            carrier="Speedy Couriers", number="SC 1234-5678", url="https://track.speedy.example/?n=SC%201234-5678"
        ),
    )
    assert parcel.created_at == datetime(2017, 3, 25, 10, tzinfo=UTC)  # completion, not the tracking's date
    assert parcel.shipment_status is None and parcel.delivered_at is None
    assert order.fulfillment_status == "fulfilled"


def test_ast_delivered_status_and_our_plugins_field():
    order, [parcel] = _parcel(fixture_json("woocommerce", "order_delivered_with_plugin"))
    assert order.platform_status == "delivered"
    assert order.financial_status == "paid" and order.fulfillment_status == "fulfilled"
    # Our plugin's field wins over the raw meta: it has the provider's link the tracking plugin builds.
    assert parcel.tracking == (
        Tracking(
            carrier="UPS", number="1Z999AA10123456784", url="https://www.ups.com/track?tracknum=1Z999AA10123456784"
        ),
    )
    assert parcel.shipment_status == "delivered"
    assert parcel.delivered_at == datetime(2017, 3, 28, 14, tzinfo=UTC)  # the plugin's mark, not date_modified


def test_delivered_status_without_the_plugin_dates_delivery_by_the_update():
    payload = fixture_json("woocommerce", "order_delivered_with_plugin")
    del payload["ppe_tracking"]
    _, [parcel] = _parcel(payload)
    assert parcel.shipment_status == "delivered"
    assert parcel.delivered_at == datetime(2017, 3, 28, 14, 30, tzinfo=UTC)
    assert [t.number for t in parcel.tracking] == ["1Z999AA10123456784"]


def test_tracking_on_an_order_not_yet_completed_ships_it_from_the_tracking_date():
    payload = fixture_json("woocommerce", "order_shipment_tracking")
    payload.update(status="processing", date_completed=None, date_completed_gmt=None)
    order, [parcel] = _parcel(payload)
    assert parcel.created_at == datetime.fromtimestamp(1490400000, UTC)
    assert order.fulfillment_status is None  # WooCommerce's own status still says processing


def _with_trackship(payload, shipments):
    payload["meta_data"] = [*payload["meta_data"], {"id": 990, "key": "shipment_status", "value": shipments}]
    return payload


def test_trackships_estimated_delivery_is_the_parcels_promise():
    """TrackShip's `shipment_status` meta (aligned with the tracking items): the latest est_delivery_date of the
    shipments not delivered, as the end of that day in UTC; whichever source gave the tracking."""
    shipments = [
        {"status": "in_transit", "status_date": "2017-03-26 10:00:00", "est_delivery_date": "2017-03-29"},
        {"status": "out_for_delivery", "est_delivery_date": "2017-03-30", "tracking_events": []},
    ]
    _, [parcel] = _parcel(_with_trackship(fixture_json("woocommerce", "order_shipment_tracking"), shipments))
    assert parcel.estimated_delivery_at == datetime(2017, 3, 31, tzinfo=UTC)
    shipments[1]["status"] = "delivered"  # its promise is kept: the other one's stands
    _, [parcel] = _parcel(_with_trackship(fixture_json("woocommerce", "order_shipment_tracking"), shipments))
    assert parcel.estimated_delivery_at == datetime(2017, 3, 30, tzinfo=UTC)
    as_object = {"0": {"status": "in_transit", "est_delivery_date": "2017-04-02"}}  # a PHP array not 0..n-1
    _, [parcel] = _parcel(_with_trackship(fixture_json("woocommerce", "order_delivered_with_plugin"), as_object))
    assert parcel.estimated_delivery_at == datetime(2017, 4, 3, tzinfo=UTC)
    for bad in ("soon", [{"est_delivery_date": "2017-13-45"}], [{"est_delivery_date": 5}], [None], {}):
        _, [parcel] = _parcel(_with_trackship(fixture_json("woocommerce", "order_shipment_tracking"), bad))
        assert parcel.estimated_delivery_at is None  # left out, never a reason to refuse the order
    _, [parcel] = _parcel(fixture_json("woocommerce", "order_shipment_tracking"))  # Shipment Tracking alone: none
    assert parcel.estimated_delivery_at is None


def test_trackships_statuses_become_the_parcels_carrier_status():
    """TrackShip's statuses (trackship-for-woocommerce's status list) in Shopify's carrier words, so a WooCommerce
    parcel tells the journey "out for delivery", "failed" or "delayed" as a Shopify one does; with shipments at
    different steps, the news the customer most needs first; all delivered is delivered, dated by the update."""

    def status(*statuses):
        shipments = [{"status": s, "est_delivery_date": "2017-03-29"} for s in statuses]
        _, [parcel] = _parcel(_with_trackship(fixture_json("woocommerce", "order_shipment_tracking"), shipments))
        return parcel.shipment_status, parcel.delivered_at is not None

    assert status("in_transit") == ("in_transit", False)
    assert status("out_for_delivery") == ("out_for_delivery", False)
    assert status("available_for_pickup") == ("ready_for_pickup", False)
    assert status("return_to_sender") == ("failure", False)
    assert status("exception") == ("delayed", False)
    assert status("in_transit", "failure") == ("failure", False)
    assert status("delivered", "out_for_delivery") == ("out_for_delivery", False)
    assert status("delivered", "delivered") == ("delivered", True)
    assert status("pre_transit") == (None, False)  # says nothing beyond "shipped"
    assert status(7, None) == (None, False)  # another plugin's data, parsed leniently


def test_yith_order_tracking_meta():
    payload = fixture_json("woocommerce", "order")
    payload["meta_data"] += [
        {"id": 1, "key": "ywot_tracking_code", "value": "RR123456785PL"},
        {"id": 2, "key": "ywot_carrier_name", "value": "Poczta Polska"},
        {"id": 3, "key": "ywot_pick_up_date", "value": "2017-03-24"},
        {"id": 4, "key": "ywot_picked_up", "value": "on"},
    ]
    _, [parcel] = _parcel(payload)
    assert parcel.tracking == (Tracking(carrier="Poczta Polska", number="RR123456785PL", url=None),)
    assert parcel.created_at == datetime(2017, 3, 24, tzinfo=UTC)


def test_bad_tracking_data_is_left_out_and_never_refuses_the_order():
    payload = fixture_json("woocommerce", "order_shipment_tracking")
    payload["meta_data"][-1]["value"] = [
        {"tracking_number": "<script>alert(1)</script>", "tracking_provider": "x"},
        {
            "tracking_number": "OK123",
            "custom_tracking_provider": "A\x00B",
            "custom_tracking_link": "javascript:alert(1)",
        },
        {"tracking_number": 12345, "date_shipped": "yesterday"},
        "not an item",
        {"tracking_number": "A" * 200},
    ]
    _, [parcel] = _parcel(payload)
    assert parcel.tracking == (Tracking(None, "OK123", None), Tracking(None, "12345", None))
    payload["ppe_tracking"] = {"shipments": "nope", "delivered_at": "soon"}
    _, [parcel] = _parcel(payload)
    assert parcel.tracking == () and parcel.shipment_status is None  # still shipped: it is completed


def test_a_plain_order_has_no_parcel_and_the_fixture_order_is_unchanged():
    order, parcels = _parcel(fixture_json("woocommerce", "order"))
    assert parcels == () and order.platform_status == "processing"


def test_shopify_fulfilments_carry_the_same_tracking_shape():
    [event] = shopify.parse_event("fulfillments/update", fixture_json("shopify", "fulfillments_update"))
    [tracking] = event.fulfillment.tracking
    assert tracking.carrier == "UPS" and tracking.number == "1z827wk74630"
    assert tracking.url.startswith("https://www.ups.com/WebTracking?")


def test_through_the_webhook_door_the_delivered_mark_dates_the_orders_delivery(app, client, ctx):
    """Completed, then AST's delivered with our plugin's mark: the order is fulfilled at completion and delivered
    at the mark (what loyalty's return window and review timing count from), and a later edit moves neither."""
    from sqlalchemy import select

    from app.extensions import db
    from app.records.models import Fulfillment, Order
    from tests.helpers import add_store, dumps, process_all, woo_headers

    def send(payload):
        body = dumps(payload)
        assert (
            client.post("/webhooks/woocommerce", data=body, headers=woo_headers("order.updated", body)).status_code
            == 200
        )
        process_all(app)
        db.session.expire_all()

    add_store("woocommerce")
    send(fixture_json("woocommerce", "order_shipment_tracking"))
    order = db.session.scalar(select(Order))
    assert order.fulfilled_at == datetime(2017, 3, 25, 10, tzinfo=UTC) and order.delivered_at is None
    delivered = fixture_json("woocommerce", "order_delivered_with_plugin")
    send(delivered)
    assert db.session.scalar(select(Order)).delivered_at == datetime(2017, 3, 28, 14, tzinfo=UTC)
    send({**delivered, "date_modified_gmt": "2017-04-02T09:00:00", "ppe_tracking": None})
    assert db.session.scalar(select(Order)).delivered_at == datetime(2017, 3, 28, 14, tzinfo=UTC)
    assert db.session.scalar(select(Fulfillment)).shipment_status == "delivered"
