"""Shopify connector on Shopify's documented payloads (tests/fixtures/shopify)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors import get_connector
from connectors.base import base64_hmac_sha256
from connectors.events import (
    AppUninstalled,
    ComplianceRequest,
    CustomerChanged,
    FulfillmentChanged,
    OrderChanged,
    RefundCreated,
    ShipmentEvent,
)
from connectors.exceptions import InvalidSignature, MalformedPayload, UnsupportedTopic
from tests.helpers import fixture_bytes, fixture_json

shopify = get_connector("shopify")
SECRET = b"s3cret"


def _headers(body: bytes, **extra: str) -> dict[str, str]:
    return {"X-Shopify-Hmac-Sha256": base64_hmac_sha256(SECRET, body), **extra}


def test_signature_over_exact_bytes_is_accepted():
    body = fixture_bytes("shopify", "orders_create")
    shopify.verify_webhook(body, _headers(body), SECRET)


@pytest.mark.parametrize("mutation", ["flip_byte", "reserialised", "wrong_secret", "missing", "empty"])
def test_bad_signatures_are_refused(mutation):
    body = fixture_bytes("shopify", "orders_create")
    headers = _headers(body)
    if mutation == "flip_byte":
        body = bytes([body[0] ^ 1]) + body[1:]
    elif mutation == "reserialised":
        import json

        body = json.dumps(json.loads(body)).encode()  # same JSON, different bytes
    elif mutation == "wrong_secret":
        headers = {"X-Shopify-Hmac-Sha256": base64_hmac_sha256(b"other", body)}
    elif mutation == "missing":
        headers = {}
    else:
        headers = {"X-Shopify-Hmac-Sha256": ""}
    with pytest.raises(InvalidSignature):
        shopify.verify_webhook(body, headers, SECRET)


def test_order_payload_normalised():
    [event] = shopify.parse_event("orders/create", fixture_json("shopify", "orders_create"))
    assert isinstance(event, OrderChanged)
    order = event.order
    assert order.platform_id == "820982911946154500"
    assert order.currency == "USD"
    assert order.total == Decimal("388.00") and isinstance(order.total, Decimal)
    assert order.financial_status == "voided"
    assert order.cancelled_at is not None and order.cancelled_at.utcoffset().total_seconds() == 0
    assert order.created_at.isoformat() == "2022-01-01T00:00:00+00:00"  # -05:00 converted to UTC
    assert order.locale == "en"
    assert order.customer.platform_id == "115310627314723950"
    assert order.customer.email == "john@example.com"
    assert [li.title for li in order.line_items] == ["IPod Nano - 8GB", "IPod Nano - 8GB"]


@pytest.mark.parametrize("topic", ["orders/create", "orders/paid", "orders/updated", "orders/cancelled"])
def test_every_order_topic_parses(topic):
    [event] = shopify.parse_event(topic, fixture_json("shopify", topic.replace("/", "_")))
    assert isinstance(event, OrderChanged)


def test_refund_amount_is_sum_of_successful_refund_transactions():
    payload = fixture_json("shopify", "refunds_create")
    [event] = shopify.parse_event("refunds/create", payload)
    assert isinstance(event, RefundCreated)
    expected = sum(
        Decimal(t["amount"]) for t in payload["transactions"] if t["kind"] == "refund" and t["status"] == "success"
    )
    assert event.refund.amount == expected
    assert event.refund.order_id == str(payload["order_id"])


def test_fulfillment_and_shipment_event():
    [fulfillment] = shopify.parse_event("fulfillments/update", fixture_json("shopify", "fulfillments_update"))
    assert isinstance(fulfillment, FulfillmentChanged)
    assert fulfillment.fulfillment.platform_id == "123456"
    [shipment] = shopify.parse_event("fulfillment_events/create", fixture_json("shopify", "fulfillment_events_create"))
    assert isinstance(shipment, ShipmentEvent)
    assert (shipment.status, shipment.fulfillment_id) == ("in_transit", "123456")


def test_customer_uninstall_and_compliance_topics():
    [customer] = shopify.parse_event("customers/update", fixture_json("shopify", "customers_update"))
    assert isinstance(customer, CustomerChanged) and customer.customer.email
    assert shopify.parse_event("app/uninstalled", fixture_json("shopify", "app_uninstalled")) == [AppUninstalled()]
    for topic in ("customers/data_request", "customers/redact", "shop/redact"):
        [event] = shopify.parse_event(topic, fixture_json("shopify", topic.replace("/", "_")))
        assert isinstance(event, ComplianceRequest) and event.topic == topic


def test_unsupported_topic_and_malformed_payloads():
    with pytest.raises(UnsupportedTopic):
        shopify.parse_event("products/update", {})
    with pytest.raises(MalformedPayload):
        shopify.parse_event("orders/create", [])
    payload = fixture_json("shopify", "orders_create")
    payload["id"] = 8.209829119461545e17  # a float id has already lost precision
    with pytest.raises(MalformedPayload):
        shopify.parse_event("orders/create", payload)
    payload = fixture_json("shopify", "orders_create")
    payload["total_price"] = 388.0  # money as a float is refused, not rounded
    with pytest.raises(MalformedPayload):
        shopify.parse_event("orders/create", payload)


def test_large_ids_stay_exact():
    payload = fixture_json("shopify", "orders_create")
    payload["id"] = 2**63 - 1
    [event] = shopify.parse_event("orders/create", payload)
    assert event.order.platform_id == "9223372036854775807"


def test_dedupe_key_prefers_event_id_and_includes_topic():
    body = b"{}"
    meta = shopify.webhook_meta(
        {
            "X-Shopify-Topic": "orders/paid",
            "X-Shopify-Shop-Domain": "A.myshopify.com",
            "X-Shopify-Event-Id": "ev-1",
            "X-Shopify-Webhook-Id": "wh-1",
        }
    )
    assert meta.source == "a.myshopify.com"
    assert shopify.dedupe_key(meta, {}, body) == "orders/paid|ev-1"
    no_event = shopify.webhook_meta({"X-Shopify-Topic": "orders/paid", "X-Shopify-Webhook-Id": "wh-1"})
    assert shopify.dedupe_key(no_event, {}, body) == "orders/paid|wh-1"
    bare = shopify.webhook_meta({"X-Shopify-Topic": "orders/paid"})
    assert shopify.dedupe_key(bare, {}, body) != shopify.dedupe_key(bare, {}, b"{ }")
