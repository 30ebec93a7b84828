"""WooCommerce connector on the REST docs' examples (tests/fixtures/woocommerce)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connectors import get_connector
from connectors.base import base64_hmac_sha256
from connectors.events import CustomerChanged, OrderChanged, OrderDeleted
from connectors.exceptions import InvalidSignature
from connectors.woocommerce import is_ping, site_key
from tests.helpers import fixture_bytes, fixture_json

woo = get_connector("woocommerce")


def test_signature():
    body = fixture_bytes("woocommerce", "order")
    woo.verify_webhook(body, {"X-WC-Webhook-Signature": base64_hmac_sha256(b"k", body)}, b"k")
    with pytest.raises(InvalidSignature):
        woo.verify_webhook(body + b" ", {"X-WC-Webhook-Signature": base64_hmac_sha256(b"k", body)}, b"k")


def test_guest_order_normalised():
    [event] = woo.parse_event("order.updated", fixture_json("woocommerce", "order"))
    assert isinstance(event, OrderChanged)
    order = event.order
    assert (order.platform_id, order.currency, order.total) == ("727", "USD", Decimal("29.35"))
    assert order.subtotal == Decimal("18.00")  # line totals: after discounts, before tax and shipping
    assert order.customer.platform_id is None  # customer_id 0 is a guest
    assert order.customer.email == "john.doe@example.com"
    assert order.paid_at.isoformat() == "2017-03-22T19:28:08+00:00"  # *_gmt read as UTC
    assert order.financial_status == "paid" and order.platform_status == "processing"
    assert order.fulfillments == ()


def test_completed_cancelled_and_refunded_orders():
    payload = fixture_json("woocommerce", "order")
    payload.update(
        status="completed",
        date_completed_gmt="2017-03-25T10:00:00",
        customer_id=25,
        refunds=[{"id": 726, "reason": "", "total": "-10.00"}],
    )
    [event] = woo.parse_event("order.updated", payload)
    order = event.order
    assert order.customer.platform_id == "25"
    assert [(f.platform_id, f.status) for f in order.fulfillments] == [("727-completed", "success")]
    assert [(r.platform_id, r.amount) for r in order.refunds] == [("726", Decimal("10.00"))]
    payload.update(status="cancelled")
    [event] = woo.parse_event("order.updated", payload)
    assert event.order.cancelled_at == event.order.updated_at


def test_deleted_restored_and_customer_topics():
    assert woo.parse_event("order.deleted", {"id": 727}) == [OrderDeleted("727")]
    [restored] = woo.parse_event("order.restored", fixture_json("woocommerce", "order"))
    assert restored.restored is True
    [customer] = woo.parse_event("customer.updated", fixture_json("woocommerce", "customer"))
    assert isinstance(customer, CustomerChanged)
    assert (customer.customer.platform_id, customer.customer.email) == ("25", "john.doe@example.com")


def test_ping_detection():
    assert is_ping(b"webhook_id=15", {})
    assert not is_ping(b"webhook_id=15", {"X-WC-Webhook-Signature": "x"})
    assert not is_ping(b'{"id": 1}', {})


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://Shop.Example.com/", "shop.example.com"),
        ("http://shop.example.com", "shop.example.com"),
        ("shop.example.com/store/", "shop.example.com/store"),
        ("http://localhost:8080/", "localhost:8080"),
    ],
)
def test_site_key(url, key):
    assert site_key(url) == key


def test_dedupe_key_is_resource_and_content():
    """Topic, resource id and a digest of the content: a change inside WooCommerce's one-second timestamps is a
    new delivery, a resend of the same content is not (issue 18, item 1)."""
    payload = fixture_json("woocommerce", "order")
    meta = woo.webhook_meta({"X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Source": "https://s.example/"})
    key = woo.dedupe_key(meta, payload, json.dumps(payload).encode())
    assert key.startswith("order.updated|727|sha256:")
    assert woo.dedupe_key(meta, json.loads(json.dumps(payload)), b"") == key  # the same content, re-sent
    payload["status"] = "completed"  # same id and date_modified_gmt, other content
    assert woo.dedupe_key(meta, payload, b"") != key
