"""Signed deliveries whose content is bad are stored and parked as failed at once, never retried or refused;
two real WooCommerce changes in one second are both applied."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.inbox.models import WebhookDelivery
from app.loyalty.models import PointsLedger
from app.records.models import Customer, Order
from tests.helpers import add_store, fixture_json, process_all, shopify_headers, shopify_order, woo_headers


def _post_woo(client, topic: str, body: bytes) -> str:
    response = client.post("/webhooks/woocommerce", data=body, headers=woo_headers(topic, body))
    assert response.status_code == 200, response.data
    return response.json["status"]


def _only_delivery() -> WebhookDelivery:
    db.session.expire_all()
    [row] = db.session.scalars(select(WebhookDelivery)).all()
    return row


def _assert_parked(body: bytes) -> WebhookDelivery:
    row = _only_delivery()
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 1, None)
    assert row.last_error.startswith("MalformedPayload") and row.body == body
    return row


@pytest.mark.parametrize("bad", ["x", "NaN"])
def test_customer_with_a_non_numeric_id_is_parked_not_recorded(app, client, ctx, bad):
    add_store("woocommerce")
    body = json.dumps({**fixture_json("woocommerce", "customer"), "id": bad}).encode()
    assert _post_woo(client, "customer.updated", body) == "accepted"
    process_all(app, fallback=True)
    _assert_parked(body)
    assert db.session.scalars(select(Customer)).all() == []


def test_shopify_customer_with_a_non_numeric_id_is_parked(app, client, ctx):
    add_store("shopify")
    body = json.dumps({**fixture_json("shopify", "customers_update"), "id": "NaN"}).encode()
    assert (
        client.post("/webhooks/shopify", data=body, headers=shopify_headers("customers/update", body)).status_code
        == 200
    )
    process_all(app, fallback=True)
    _assert_parked(body)


def test_two_refunds_in_the_same_second_are_both_applied(app, client, ctx):
    store = add_store("woocommerce")
    order = {**fixture_json("woocommerce", "order"), "customer_id": 25, "total": "100.00"}
    order["line_items"] = [{**order["line_items"][0], "subtotal": "100.00", "total": "100.00"}]
    assert _post_woo(client, "order.created", json.dumps(order).encode()) == "accepted"
    process_all(app)
    changed = {**order, "date_modified_gmt": "2017-03-23T10:00:00"}
    one = {**changed, "refunds": [{"id": 801, "reason": "", "total": "-10.00"}]}
    two = {**changed, "refunds": [{"id": 802, "reason": "", "total": "-30.00"}, *one["refunds"]]}
    assert _post_woo(client, "order.updated", json.dumps(one).encode()) == "accepted"
    assert _post_woo(client, "order.updated", json.dumps(two).encode()) == "accepted"
    assert _post_woo(client, "order.updated", json.dumps(two).encode()) == "duplicate"  # the same bytes again
    process_all(app)
    db.session.expire_all()
    rows = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.store_id == store.id)).all()
    assert [r.status for r in rows] == ["done", "done", "done"]
    assert db.session.scalar(select(Order)).refunded_amount == Decimal("40.00")
    points = {r.source_key: r.points for r in db.session.scalars(select(PointsLedger))}
    assert sum(points.values()) == 60 and {k for k in points if k.startswith("refund:")} == {
        "refund:801:reverse",
        "refund:802:reverse",
    }


@pytest.mark.parametrize("field", ["id", "status", "date_modified_gmt"])
def test_a_nul_in_a_key_field_is_stored_and_parked(app, client, ctx, field):
    add_store("woocommerce")
    order = fixture_json("woocommerce", "order")
    order[field] = f"{order[field]}\x00"
    body = json.dumps(order).encode()
    assert _post_woo(client, "order.updated", body) == "accepted"
    assert _post_woo(client, "order.updated", body) == "duplicate"
    process_all(app, fallback=True)
    _assert_parked(body)
    assert db.session.scalars(select(Order)).all() == []


@pytest.mark.parametrize(
    "change",
    [
        {"total": "1e20"},
        {"date_created_gmt": "0001-01-01T00:00:00"},
        {"billing": "x"},
        {"customer_id": str(2**64)},
        {"line_items": [{"id": 1, "quantity": "x", "subtotal": "1.00", "total": "1.00"}]},
    ],
)
def test_woo_payloads_that_can_never_apply_are_parked_at_once(app, client, ctx, change):
    add_store("woocommerce")
    body = json.dumps({**fixture_json("woocommerce", "order"), **change}).encode()
    assert _post_woo(client, "order.updated", body) == "accepted"
    process_all(app, fallback=True)
    _assert_parked(body)


@pytest.mark.parametrize("change", [{"total_price": "1e20"}, {"updated_at": "0001-01-01T00:00:00+05:00"}])
def test_shopify_payloads_that_can_never_apply_are_parked_at_once(app, client, ctx, change):
    add_store("shopify")
    body = json.dumps(shopify_order(**change)).encode()
    assert (
        client.post("/webhooks/shopify", data=body, headers=shopify_headers("orders/updated", body)).status_code == 200
    )
    process_all(app, fallback=True)
    _assert_parked(body)
