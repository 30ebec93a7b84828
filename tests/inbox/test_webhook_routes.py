"""The acknowledgement contract of POST /webhooks/<platform>: codes, storage, duplicates."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.inbox.models import WebhookDelivery
from tests.helpers import (
    WOO_SITE,
    add_store,
    dumps,
    fixture_bytes,
    fixture_json,
    shopify_headers,
    woo_headers,
)


def _inbox_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(WebhookDelivery))


def test_shopify_accepts_stores_raw_bytes_and_recognises_duplicates(app, client, ctx):
    add_store("shopify")
    body = fixture_bytes("shopify", "orders_create")
    headers = shopify_headers("orders/create", body, event_id="evt-1")
    first = client.post("/webhooks/shopify", data=body, headers=headers)
    assert (first.status_code, first.json["status"]) == (200, "accepted")
    for _ in range(4):
        again = client.post("/webhooks/shopify", data=body, headers=headers)
        assert (again.status_code, again.json["status"]) == (200, "duplicate")
    with app.app_context():
        [row] = db.session.scalars(select(WebhookDelivery)).all()
        assert row.body == body  # exact bytes, re-verifiable later
        assert (row.topic, row.status, row.dedupe_key) == ("orders/create", "pending", "orders/create|evt-1")


def test_shopify_refusals(app, client, ctx):
    add_store("shopify")
    body = fixture_bytes("shopify", "orders_create")
    headers = shopify_headers("orders/create", body)
    flipped = bytearray(body)
    flipped[100] ^= 1
    assert client.post("/webhooks/shopify", data=bytes(flipped), headers=headers).status_code == 401
    assert (
        client.post("/webhooks/shopify", data=body, headers={**headers, "X-Shopify-Hmac-Sha256": ""}).status_code == 401
    )
    no_sig = {k: v for k, v in headers.items() if k != "X-Shopify-Hmac-Sha256"}
    assert client.post("/webhooks/shopify", data=body, headers=no_sig).status_code == 401
    other_shop = shopify_headers("orders/create", body, shop="stranger.myshopify.com")
    assert client.post("/webhooks/shopify", data=body, headers=other_shop).status_code == 404
    broken = b'{"id": 1,'
    assert (
        client.post("/webhooks/shopify", data=broken, headers=shopify_headers("orders/create", broken)).status_code
        == 400
    )
    array = b"[1, 2]"
    assert (
        client.post("/webhooks/shopify", data=array, headers=shopify_headers("orders/create", array)).status_code == 400
    )
    assert _inbox_count(app) == 0


def test_oversized_body_is_413_and_not_stored(app, client, ctx):
    add_store("shopify")
    body = b'{"pad": "' + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1) + b'"}'
    response = client.post("/webhooks/shopify", data=body, headers=shopify_headers("orders/create", body))
    assert response.status_code == 413
    assert _inbox_count(app) == 0


def test_unsupported_topic_is_acknowledged_but_not_stored(app, client, ctx):
    add_store("shopify")
    body = b'{"id": 1}'
    response = client.post("/webhooks/shopify", data=body, headers=shopify_headers("products/update", body))
    assert (response.status_code, response.json["status"]) == (200, "ignored")
    assert _inbox_count(app) == 0


def test_compliance_topics_are_stored(app, client, ctx):
    add_store("shopify")
    for topic in ("customers/data_request", "customers/redact", "shop/redact"):
        body = fixture_bytes("shopify", topic.replace("/", "_"))
        assert client.post("/webhooks/shopify", data=body, headers=shopify_headers(topic, body)).status_code == 200
    assert _inbox_count(app) == 3


def test_woocommerce_ping_gets_exact_200_and_stores_nothing(app, client, ctx):
    response = client.post(
        "/webhooks/woocommerce", data=b"webhook_id=12", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert response.data == b""
    assert _inbox_count(app) == 0


def test_woocommerce_signed_by_store_secret(app, client, ctx):
    add_store("woocommerce")
    body = fixture_bytes("woocommerce", "order")
    ok = client.post("/webhooks/woocommerce", data=body, headers=woo_headers("order.updated", body))
    assert (ok.status_code, ok.json["status"]) == (200, "accepted")
    # The same order state again (a WooCommerce retry by the merchant, or a double hook) is a duplicate.
    again = client.post("/webhooks/woocommerce", data=body, headers=woo_headers("order.updated", body))
    assert again.json["status"] == "duplicate"
    # Scheme and trailing slash of X-WC-Webhook-Source do not matter.
    changed = dumps({**fixture_json("woocommerce", "order"), "status": "completed"})
    alt_source = woo_headers("order.updated", changed, source="http://WOO.example.com")
    assert client.post("/webhooks/woocommerce", data=changed, headers=alt_source).json["status"] == "accepted"
    bad = woo_headers("order.updated", body, secret="not-the-secret")
    assert client.post("/webhooks/woocommerce", data=body, headers=bad).status_code == 401
    unknown = woo_headers("order.updated", body, source="https://unknown.example.org/")
    assert client.post("/webhooks/woocommerce", data=body, headers=unknown).status_code == 401
    assert _inbox_count(app) == 2
    assert WOO_SITE


def test_database_down_answers_503_so_the_platform_retries(backend_env, monkeypatch):
    from app import create_app
    from app.config import TestingConfig

    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    down = create_app(TestingConfig())
    body = fixture_bytes("shopify", "orders_create")
    response = down.test_client().post("/webhooks/shopify", data=body, headers=shopify_headers("orders/create", body))
    assert response.status_code == 503
    assert response.headers["Retry-After"]
