"""The WSGI door (app/inbox/door.py) answers exactly as the Flask views would."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.inbox.door import EnvironHeaders, WebhookDoor, read_body
from app.inbox.models import WebhookDelivery
from tests.helpers import add_store, fixture_bytes, shopify_headers, without_door, woo_headers


@pytest.fixture
def views_client(app):
    """The same app's Flask views, without the webhook door in front (a middleware of app.wsgi_app)."""
    with without_door(app, WebhookDoor):
        yield app.test_client()


def _inbox_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(WebhookDelivery))


def _seen(response) -> tuple:
    return (response.status_code, response.data, response.content_type, response.headers.get("Retry-After"))


def test_door_and_views_answer_alike(app, client, ctx):
    add_store("shopify")
    add_store("woocommerce")
    order = fixture_bytes("shopify", "orders_create")
    woo = fixture_bytes("woocommerce", "order")
    cases = {
        "bad signature": (order, shopify_headers("orders/create", b"other")),
        "unknown shop": (order, shopify_headers("orders/create", order, shop="stranger.myshopify.com")),
        "no topic": (order, {**shopify_headers("orders/create", order), "X-Shopify-Topic": ""}),
        "malformed": (b'{"id": 1,', shopify_headers("orders/create", b'{"id": 1,')),
        "array": (b"[1]", shopify_headers("orders/create", b"[1]")),
        "ignored": (b'{"id": 1}', shopify_headers("products/update", b'{"id": 1}')),
        "woo unknown": (woo, woo_headers("order.updated", woo, source="https://unknown.example.org/")),
        "woo bad signature": (woo, woo_headers("order.updated", woo, secret="nope")),
    }
    views = app.test_client()
    for name, (body, headers) in cases.items():
        through_door = _seen(client.post(_path(headers), data=body, headers=headers))
        with without_door(app, WebhookDoor):
            through_views = _seen(views.post(_path(headers), data=body, headers=headers))
        assert through_door == through_views, name
        assert through_door[0] != 200 or name == "ignored", name
    assert _inbox_count(app) == 0


def _path(headers: dict[str, str]) -> str:
    return "/webhooks/shopify" if "X-Shopify-Topic" in headers else "/webhooks/woocommerce"


def test_door_stores_and_recognises_duplicates_like_the_views(app, client, views_client, ctx):
    add_store("shopify")
    body = fixture_bytes("shopify", "orders_create")
    headers = shopify_headers("orders/create", body, event_id="evt-door")
    first = client.post("/webhooks/shopify", data=body, headers=headers)
    again = views_client.post("/webhooks/shopify", data=body, headers=headers)
    assert (first.status_code, first.json, first.content_type) == (200, {"status": "accepted"}, "application/json")
    assert (again.status_code, again.json) == (200, {"status": "duplicate"})
    assert client.post("/webhooks/shopify", data=body, headers=headers).json == {"status": "duplicate"}
    with app.app_context():
        [row] = db.session.scalars(select(WebhookDelivery)).all()
        assert (row.body, row.dedupe_key) == (body, "orders/create|evt-door")


def test_woocommerce_ping_through_the_door_is_an_empty_200(app, client):
    response = client.post(
        "/webhooks/woocommerce", data=b"webhook_id=7", content_type="application/x-www-form-urlencoded"
    )
    assert (response.status_code, response.data) == (200, b"")


def test_other_methods_and_paths_still_go_to_flask(app, client):
    assert client.get("/webhooks/shopify").status_code == 405
    assert client.post("/webhooks/shopify/").status_code in (308, 404)  # Flask's own answer, not the door's
    assert client.post("/webhooks/other").status_code == 404


def _environ(body: bytes, length: str | None, terminated: bool = False) -> dict:
    environ = {"wsgi.input": io.BytesIO(body)}
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    if terminated:
        environ["wsgi.input_terminated"] = True
    return environ


def test_read_body_by_content_length():
    assert read_body(_environ(b"abcdef", "6"), 10) == b"abcdef"
    assert read_body(_environ(b"abcdef", "3"), 10) == b"abc"  # no more than announced
    assert read_body(_environ(b"abcdef", "6"), 5).status == 413  # refused before reading
    assert read_body(_environ(b"abc", "6"), 10).status == 400  # the client sent less than announced
    assert read_body(_environ(b"abcdef", None), 10) == b""  # no length, stream not terminated: no body
    assert read_body(_environ(b"abcdef", "x"), 10) == b""
    assert read_body(_environ(b"abcdef", None, terminated=True), 10) == b"abcdef"  # chunked
    assert read_body(_environ(b"abcdef", None, terminated=True), 5).status == 413
    assert read_body(_environ(b"abcdef", "6"), None) == b"abcdef"  # no limit configured


def test_environ_headers_are_case_insensitive():
    headers = EnvironHeaders({"HTTP_X_SHOPIFY_TOPIC": "orders/paid", "CONTENT_TYPE": "application/json"})
    assert headers.get("X-Shopify-Topic") == headers.get("x-shopify-topic") == "orders/paid"
    assert headers["Content-Type"] == "application/json"
    assert headers.get("X-Shopify-Event-Id") is None
    assert list(headers) == ["X-Shopify-Topic"] and len(headers) == 1


def test_an_unexpected_error_is_a_500_outside_tests_and_raised_in_them(backend_env):
    from app import create_app
    from app.config import TestingConfig

    broken = create_app(TestingConfig())
    broken.config["SHOPIFY_API_SECRET"] = None  # a misconfiguration: None.encode() raises in the handler
    body = b'{"id": 1}'
    with pytest.raises(AttributeError):
        broken.test_client().post("/webhooks/shopify", data=body, headers=shopify_headers("orders/create", body))
    broken.testing = False
    response = broken.test_client().post("/webhooks/shopify", data=body, headers=shopify_headers("orders/create", body))
    assert (response.status_code, response.json) == (500, {"status": "internal error"})
