"""Nothing from outside reaches a 500 at the webhook doors: garbage headers are refused (400/401) and a database
that cannot be reached is a 503 the platform retries, through the WSGI door and the Flask views alike."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.inbox.door import WebhookDoor
from app.stores import cache as store_cache
from tests.helpers import add_store, fixture_bytes, shopify_headers, without_door, woo_headers

GARBAGE_SOURCES = ["http://x:99999", ":abc", "http://[::1", "javascript:alert(1)", "https://woo.example.com:0x1/"]


def _both(app, client, path: str, body: bytes, headers: dict[str, str]) -> tuple[tuple, tuple]:
    def seen(response) -> tuple:
        return response.status_code, response.data, response.headers.get("Retry-After")

    through_door = seen(client.post(path, data=body, headers=headers))
    with without_door(app, WebhookDoor):
        through_views = seen(client.post(path, data=body, headers=headers))
    return through_door, through_views


@pytest.mark.parametrize("source", GARBAGE_SOURCES)
def test_a_garbage_woocommerce_source_is_refused_not_a_500(app, client, ctx, source):
    add_store("woocommerce")
    body = fixture_bytes("woocommerce", "order")
    door, views = _both(app, client, "/webhooks/woocommerce", body, woo_headers("order.updated", body, source=source))
    assert door == views
    # Unparseable (a bad port, a broken IPv6 literal): 400; no host at all names no store: 401, as an empty one.
    assert door[0] == (401 if source == ":abc" else 400), door


def _failing_connect(monkeypatch) -> None:
    """Every new connection from the engine fails as the driver fails when the server is down."""
    error = db.engine.dialect.loaded_dbapi.OperationalError

    def refuse(*_args, **_kwargs):
        raise error("connection refused (test)")

    monkeypatch.setattr(db.engine, "raw_connection", refuse)


@pytest.mark.parametrize("door", [True, False], ids=["door", "views"])
def test_database_down_at_the_insert_is_a_503_on_both_paths(app, client, ctx, monkeypatch, door):
    monkeypatch.setitem(app.config, "STORE_CACHE_SECONDS", 60)
    monkeypatch.setattr(store_cache, "_cache", {})  # this test's snapshots only
    add_store("shopify")
    add_store("woocommerce")
    shop_body = fixture_bytes("shopify", "orders_create")
    woo_body = fixture_bytes("woocommerce", "order")
    cases = [
        ("/webhooks/shopify", shop_body, lambda body: shopify_headers("orders/create", body)),
        ("/webhooks/woocommerce", woo_body, lambda body: woo_headers("order.updated", body)),
    ]
    # The stores are in this process's snapshot (stores/cache.py): only the insert needs the database.
    for path, body, headers in cases:
        assert client.post(path, data=body, headers=headers(body)).status_code == 200
    db.session.remove()
    _failing_connect(monkeypatch)
    for path, body, headers in cases:
        changed = body.replace(b'"id"', b'"id" ', 1)  # not a duplicate of the stored one
        if door:
            response = client.post(path, data=changed, headers=headers(changed))
        else:
            with without_door(app, WebhookDoor):
                response = client.post(path, data=changed, headers=headers(changed))
        assert (response.status_code, response.json) == (503, {"status": "unavailable"}), path
        assert response.headers["Retry-After"] == "5"
