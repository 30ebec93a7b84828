"""The segments' country and tag conditions (docs/segments.md): read from the platforms' payloads as webhooks
arrive (Shopify's customer tags and default address, an order's billing country, WooCommerce's billing country),
kept current by newer snapshots, refused when malformed, and erased with the customer's other personal data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.helpers import add_store, dumps, fixture_json, process_all, shopify_headers, shopify_order, woo_headers

NOW = datetime(2027, 6, 1, 12, tzinfo=UTC)


def _post_shopify(app, client, topic, payload):
    body = dumps(payload)
    assert client.post("/webhooks/shopify", data=body, headers=shopify_headers(topic, body)).status_code == 200
    process_all(app)


def _customer(app):
    from app.extensions import db
    from app.records.models import Customer

    with app.app_context():
        row = db.session.query(Customer).one()
        return row.country, row.tags


def _customer_update(tags, country, updated_at):
    payload = fixture_json("shopify", "customers_update")
    payload.update(id=7001, email="ann@example.com", tags=tags, updated_at=updated_at)
    payload["default_address"] = {**payload["default_address"], "country_code": country}
    return payload


def test_parsing_takes_shopifys_tags_string_and_validates_the_country():
    from connectors.countries import ALPHA_2, country_code
    from connectors.parsing import tags
    from connectors.shopify_snapshots import customer_snapshot, order_snapshot

    assert len(ALPHA_2) == 250 and country_code(" pl ") == "PL" and country_code("EU") is None
    assert tags("VIP, wholesale,, vip ,Big Spender") == ("vip", "wholesale", "big spender")
    assert tags("") == () and tags(None) is None and tags(["A", "b"]) == ("a", "b")
    snap = customer_snapshot(_customer_update("Gold, Newsletter", "CA", "2027-01-01T00:00:00Z"))
    assert (snap.country, snap.tags) == ("CA", ("gold", "newsletter"))
    assert customer_snapshot(_customer_update("", "ZZ", None)).country is None  # not a country: not said
    # The documented order payload: the customer's default address (CA) wins over the billing address (US); the
    # order's customer object carries no tags (not said, so they are left as they are).
    paid = order_snapshot(fixture_json("shopify", "orders_paid"))
    assert (paid.customer.country, paid.customer.tags) == ("CA", None)
    guest = shopify_order(5002, customer_id=None)
    assert order_snapshot(guest).customer.country == "US"  # a guest: the billing country


def test_woocommerce_gives_the_billing_country_and_no_tags():
    from connectors.woocommerce import WooCommerceConnector

    connector = WooCommerceConnector()
    customer = connector.parse_event("customer.updated", fixture_json("woocommerce", "customer"))[0].customer
    order = connector.parse_event("order.updated", fixture_json("woocommerce", "order"))[0].order
    assert (customer.country, customer.tags) == ("US", None)
    assert order.customer.country == fixture_json("woocommerce", "order")["billing"]["country"]


def test_webhooks_keep_country_and_tags_current_and_a_segment_follows(app, client):
    from app.extensions import db
    from app.records.models import Customer
    from app.segments import service
    from app.segments.conditions import as_json, validate
    from app.segments.models import Segment
    from app.stores.models import Store

    with app.app_context():
        store = db.session.merge(add_store("shopify"))
        rule = as_json(validate([{"field": "tag", "op": "has", "value": "VIP"},
                                 {"field": "country", "op": "in", "value": ["PL"]}]))  # fmt: skip
        db.session.add(Segment(store_id=store.id, key="vip-pl", name="VIP in Poland", conditions=rule))
        db.session.commit()
    _post_shopify(app, client, "orders/create", shopify_order(5001))
    assert _customer(app) == ("CA", None)
    _post_shopify(app, client, "customers/update", _customer_update("VIP, Newsletter", "PL", "2027-01-02T00:00:00Z"))
    assert _customer(app) == ("PL", ",vip,newsletter,")
    with app.app_context():
        store = db.session.query(Store).one()
        customer = db.session.query(Customer).one()
        assert "vip-pl" in service.segments_of(db.session, store, customer, NOW)
        assert [c.id for c in service.members(db.session, store, service.find(db.session, store, "vip-pl"), NOW)] == [
            customer.id
        ]
    # An older snapshot delivered late changes nothing; a newer one without the tag takes the customer out.
    _post_shopify(app, client, "customers/update", _customer_update("", "DE", "2027-01-01T00:00:00Z"))
    assert _customer(app) == ("PL", ",vip,newsletter,")
    _post_shopify(app, client, "customers/update", _customer_update("Newsletter", "PL", "2027-01-03T00:00:00Z"))
    assert _customer(app) == ("PL", ",newsletter,")
    # An order webhook (its customer object has no tags) leaves them as they are.
    _post_shopify(app, client, "orders/updated", shopify_order(5001, updated_at="2027-01-04T00:00:00Z"))
    assert _customer(app)[1] == ",newsletter,"
    with app.app_context():
        store = db.session.query(Store).one()
        assert dict((d.key, n) for d, n in service.counts(db.session, store, NOW))["vip-pl"] == 0


def test_woocommerce_webhooks_store_the_billing_country(app, client):
    from app.extensions import db
    from app.records.models import Customer

    with app.app_context():
        db.session.merge(add_store("woocommerce"))
        db.session.commit()
    payload = fixture_json("woocommerce", "customer")
    payload["billing"] = {**payload["billing"], "country": "hu"}
    body = dumps(payload)
    assert (
        client.post("/webhooks/woocommerce", data=body, headers=woo_headers("customer.updated", body)).status_code
        == 200
    )
    process_all(app)
    with app.app_context():
        assert [(c.country, c.tags) for c in db.session.query(Customer)] == [("HU", None)]


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        ({"field": "country", "op": "in", "value": ["PL", "EU"]}, "conditions[0].value"),
        ({"field": "country", "op": "in", "value": "PL"}, "conditions[0].value"),
        ({"field": "country", "op": "in", "value": []}, "conditions[0].value"),
        ({"field": "country", "op": "eq", "value": "PL"}, "conditions[0].op"),
        ({"field": "tag", "op": "has", "value": "a,b"}, "conditions[0].value"),
        ({"field": "tag", "op": "has", "value": "  "}, "conditions[0].value"),
        ({"field": "tag", "op": "has", "value": "x" * 256}, "conditions[0].value"),
        ({"field": "tag", "op": "has", "value": 5}, "conditions[0].value"),
    ],
)
def test_malformed_country_and_tag_conditions_are_refused_with_their_place(condition, field):
    from app.segments.conditions import ConditionError, validate

    with pytest.raises(ConditionError) as refused:
        validate([condition])
    assert refused.value.field == field


def test_erasure_clears_country_and_tags():
    from app.compliance.erasure import PERSONAL_DATA
    from app.records.models import Customer

    columns = next(p.columns for p in PERSONAL_DATA if p.model is Customer)
    assert {"country", "tags"} <= set(columns)
