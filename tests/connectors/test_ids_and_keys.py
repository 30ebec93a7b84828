"""Platform ids, dedupe keys and the parsing checks that make a payload that can never apply malformed at once."""

from __future__ import annotations

import json

import pytest

from connectors import get_connector
from connectors import parsing as p
from connectors.base import WebhookMeta
from connectors.exceptions import MalformedPayload
from tests.helpers import fixture_json, shopify_order

woo = get_connector("woocommerce")
shopify = get_connector("shopify")
UPDATED = WebhookMeta("order.updated", "woo.example.com", None)


@pytest.mark.parametrize(
    "value",
    [
        "x",
        "NaN",
        "nan",
        "1.5",
        "-1",
        "+1",
        "1e3",
        "0",
        "00",
        "",
        " ",
        "1\x00",
        "١٢",
        "²",
        "1²",
        "012",
        "7\n",
        "1" * 20,
        str(2**63),
        2**63,
        0,
        -1,
    ],
)
def test_platform_id_refuses_anything_but_a_positive_64_bit_integer(value):
    with pytest.raises(MalformedPayload):
        p.platform_id(value, "customer.id")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(7, "7"), ("7", "7"), (" 25 ", "25"), (2**63 - 1, str(2**63 - 1)), (str(2**63 - 1), str(2**63 - 1))],
)
def test_platform_id_accepts_digits(value, expected):
    assert p.platform_id(value) == expected


@pytest.mark.parametrize("bad", ["x", "NaN", "12abc"])
def test_customer_payloads_with_a_non_numeric_id_are_malformed(bad):
    with pytest.raises(MalformedPayload):
        woo.parse_event("customer.updated", {**fixture_json("woocommerce", "customer"), "id": bad})
    with pytest.raises(MalformedPayload):
        shopify.parse_event("customers/update", {**fixture_json("shopify", "customers_update"), "id": bad})
    with pytest.raises(MalformedPayload):
        woo.parse_event("order.updated", {**fixture_json("woocommerce", "order"), "customer_id": bad})


def _refunded(*totals: str) -> dict:
    order = fixture_json("woocommerce", "order")
    order["refunds"] = [{"id": 800 + i, "reason": "", "total": f"-{t}"} for i, t in enumerate(totals)]
    return order


def test_woo_key_tells_apart_two_changes_in_the_same_second():
    one, two = _refunded("5.00"), _refunded("5.00", "3.00")
    assert (one["id"], one["status"], one["date_modified_gmt"]) == (two["id"], two["status"], two["date_modified_gmt"])
    assert woo.dedupe_key(UPDATED, one, json.dumps(one).encode()) != woo.dedupe_key(
        UPDATED, two, json.dumps(two).encode()
    )


def test_woo_key_collapses_the_same_content_however_serialised():
    order = _refunded("5.00")
    sent = json.dumps(order).encode()
    key = woo.dedupe_key(UPDATED, json.loads(sent), sent)
    assert woo.dedupe_key(UPDATED, json.loads(sent), sent) == key  # the same bytes re-sent
    # reconciliation re-serialises the REST answer (other key order, compact, with _links): the same content
    listed = {"_links": {"self": [{"href": "https://woo.example.com/wp-json/wc/v3/orders/727"}]}, **order}
    listed = dict(reversed(list(listed.items())))
    body = json.dumps(listed, ensure_ascii=False, separators=(",", ":")).encode()
    assert woo.dedupe_key(UPDATED, listed, body) == key
    assert woo.dedupe_key(WebhookMeta("order.created", "", None), order, sent) != key
    assert len(key) <= 191 and key.startswith("order.updated|727|")


@pytest.mark.parametrize("field", ["id", "status", "date_modified_gmt"])
def test_woo_key_never_carries_a_nul(field):
    order = fixture_json("woocommerce", "order")
    order[field] = f"{order[field]}\x00"
    key = woo.dedupe_key(UPDATED, order, json.dumps(order).encode())
    assert "\x00" not in key
    assert key != woo.dedupe_key(UPDATED, fixture_json("woocommerce", "order"), b"")
    with pytest.raises(MalformedPayload):
        woo.parse_event("order.updated", order)


@pytest.mark.parametrize(
    "change",
    [
        {"total": "1e20"},
        {"total": "100000000000000.00"},
        {"date_created_gmt": "0001-01-01T00:00:00"},
        {"date_modified_gmt": "0001-01-01T00:00:00"},
        {"billing": "x"},
        {"shipping": "x"},
        {"id": 2**64},
        {"customer_id": str(2**64)},
        {"refunds": [{"id": 1, "total": "-1e30"}]},
        {"line_items": [{"id": 1, "quantity": "x", "subtotal": "1.00", "total": "1.00"}]},
        {"line_items": [{"id": 1, "quantity": 2**40, "subtotal": "1.00", "total": "1.00"}]},
        {"status": "processing\x00"},
    ],
)
def test_woo_orders_that_can_never_apply_are_malformed(change):
    with pytest.raises(MalformedPayload):
        woo.parse_event("order.updated", {**fixture_json("woocommerce", "order"), **change})


@pytest.mark.parametrize("change", [{"billing": "x"}, {"date_modified_gmt": "0001-01-01T00:00:00"}])
def test_woo_customers_that_can_never_apply_are_malformed(change):
    with pytest.raises(MalformedPayload):
        woo.parse_event("customer.updated", {**fixture_json("woocommerce", "customer"), **change})


@pytest.mark.parametrize(
    "change",
    [
        {"total_price": "1e20"},
        {"updated_at": "0001-01-01T00:00:00+05:00"},
        {"created_at": "0001-01-01T00:00:00Z"},
        {"id": str(2**64)},
    ],
)
def test_shopify_orders_that_can_never_apply_are_malformed(change):
    with pytest.raises(MalformedPayload):
        shopify.parse_event("orders/updated", shopify_order(**change))
