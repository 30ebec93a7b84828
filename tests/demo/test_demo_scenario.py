"""The demo scenario generator (app/demo/scenario.py), without a database or a server."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import pytest

from app.demo.scenario import build_scenario, sign
from connectors import get_connector
from connectors.base import base64_hmac_sha256
from connectors.events import OrderChanged, OrderDeleted


@pytest.fixture(scope="module")
def scenario():
    return build_scenario(seed=3, customers=60, orders=600)


def _identity(delivery) -> tuple:
    return delivery.platform, delivery.body, tuple(sorted(delivery.headers.items()))


def test_same_seed_same_history_other_seed_another():
    first, again = build_scenario(seed=5, customers=12, orders=60), build_scenario(seed=5, customers=12, orders=60)
    assert first == again
    assert [d.body for d in build_scenario(seed=6, customers=12, orders=60).deliveries] != [
        d.body for d in first.deliveries
    ]


def test_every_body_parses_with_the_real_connectors(scenario):
    topics = Counter()
    for delivery in scenario.deliveries:
        connector = get_connector(delivery.platform)
        assert connector.webhook_meta(delivery.headers).topic == delivery.topic
        events = connector.parse_event(delivery.topic, json.loads(delivery.body))
        assert events
        topics[delivery.platform, delivery.topic] += 1
    for topic in ("orders/create", "orders/paid", "orders/cancelled", "refunds/create", "fulfillment_events/create"):
        assert topics["shopify", topic], topic
    for topic in ("order.created", "order.updated", "customer.created", "order.deleted"):
        assert topics["woocommerce", topic], topic


def test_payloads_keep_the_platforms_types(scenario):
    for delivery in scenario.deliveries:
        payload = json.loads(delivery.body)
        assert isinstance(payload["id"], int) and not isinstance(payload["id"], bool)
        if delivery.topic.startswith("orders/"):
            assert isinstance(payload["total_price"], str) and payload["updated_at"][-6] in "+-"
        if delivery.topic in ("order.created", "order.updated"):
            assert isinstance(payload["total"], str) and "+" not in payload["date_modified_gmt"]
            assert all(Decimal(r["total"]) < 0 for r in payload["refunds"])


def test_duplicates_are_byte_identical_and_come_later(scenario):
    seen: dict[tuple, int] = {}
    repeats = 0
    for position, delivery in enumerate(scenario.deliveries):
        key = _identity(delivery)
        if key in seen:
            repeats += 1
            assert position > seen[key]
        else:
            seen[key] = position
    assert repeats == round(len(seen) * 0.05)
    # Distinct deliveries never share a dedupe key: only the repeats may be answered "duplicate".
    keys = set()
    for platform, body, headers in seen:
        connector = get_connector(platform)
        keys.add((platform, connector.dedupe_key(connector.webhook_meta(dict(headers)), json.loads(body), body)))
    assert len(keys) == len(seen)


def test_expected_matches_the_orders_in_the_stream(scenario):
    live: dict[str, set[str]] = {"shopify": set(), "woocommerce": set()}
    deleted: set[str] = set()
    for delivery in scenario.deliveries:
        for event in get_connector(delivery.platform).parse_event(delivery.topic, json.loads(delivery.body)):
            if isinstance(event, OrderChanged):
                live[delivery.platform].add(event.order.platform_id)
            elif isinstance(event, OrderDeleted):
                deleted.add(event.order_id)
    assert deleted and deleted <= live["woocommerce"]
    for platform, orders in live.items():
        counted = sum(v["orders_count"] for (p, _), v in scenario.expected.items() if p == platform)
        assert counted == len(orders - deleted if platform == "woocommerce" else orders)
    currencies = {(p, v["currency"]) for (p, _), v in scenario.expected.items()}
    assert currencies == {("shopify", "USD"), ("woocommerce", "EUR")}
    for (_, email), value in scenario.expected.items():
        assert email == email.strip().lower()
        assert Decimal(value["total_spent"]) >= 0 and value["total_spent"] == f"{Decimal(value['total_spent']):.2f}"
    guests = Counter(value["guest"] for value in scenario.expected.values())
    assert guests[True] and guests[False]


def test_guests_who_sign_up_are_one_customer(scenario):
    """Some emails appear on guest orders (no customer object / customer_id 0) and later on an account."""
    guest_emails, account_emails = set(), set()
    for delivery in scenario.deliveries:
        payload = json.loads(delivery.body)
        if delivery.topic in ("orders/create", "order.created"):
            email = payload.get("email") or payload["billing"]["email"]
            guest = "customer" not in payload if delivery.platform == "shopify" else payload["customer_id"] == 0
            (guest_emails if guest else account_emails).add((delivery.platform, email.strip().lower()))
        elif delivery.topic in ("customers/create", "customer.created"):
            account_emails.add((delivery.platform, payload["email"]))
    signed_up = guest_emails & account_emails
    assert signed_up
    assert all(scenario.expected[key]["guest"] is False for key in signed_up)
    assert all(scenario.expected[key]["guest"] for key in guest_emails - account_emails)


def test_sign_adds_the_platform_signature(scenario):
    for platform, header in (("shopify", "X-Shopify-Hmac-Sha256"), ("woocommerce", "X-WC-Webhook-Signature")):
        delivery = next(d for d in scenario.deliveries if d.platform == platform)
        signed = sign(delivery, b"secret")
        assert signed[header] == base64_hmac_sha256(b"secret", delivery.body)
        assert header not in delivery.headers
        get_connector(platform).verify_webhook(delivery.body, signed, b"secret")
