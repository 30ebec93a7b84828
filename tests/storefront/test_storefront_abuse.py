"""Storefront abuse limits: Redis rate limits (429, Retry-After, recovery), CORS, body cap, JSON errors."""

from __future__ import annotations

import pytest

from app.storefront.auth import mint_customer_token
from tests.helpers import add_store

NOW = 1_800_000_040.0  # 40 s into a 60 s window


@pytest.fixture
def clock(app, monkeypatch):
    now = {"t": NOW}
    monkeypatch.setitem(app.config, "STOREFRONT_CLOCK", lambda: now["t"])
    return now


def _keys(store):
    from app.extensions import db
    from app.security import secret_box
    from app.stores.storefront_keys import ensure_keys

    keys = ensure_keys(db.session, secret_box(), db.session.merge(store))
    db.session.commit()
    return keys


@pytest.fixture
def woo(ctx):
    store = add_store("woocommerce")
    return store, _keys(store)


def test_client_limit_429_then_recovery(app, client, clock, woo, monkeypatch):
    _store, keys = woo
    monkeypatch.setitem(app.config, "STOREFRONT_RATE_CLIENT", "3/60")
    headers = {"X-PPE-Store": keys.public_key}
    assert [client.get("/api/v1/program", headers=headers).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/v1/program", headers=headers)
    assert refused.status_code == 429 and refused.json["error"] == "too_many_requests"
    assert refused.headers["Retry-After"] == "20"  # the window ends 20 s after NOW
    # Another client (a logged-in customer of the same store) has its own allowance.
    token = mint_customer_token("woo.example.com", "42", keys.secret, expires_at=int(NOW) + 600)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    clock["t"] = NOW + 19
    assert client.get("/api/v1/program", headers=headers).status_code == 429
    clock["t"] = NOW + 20  # the next window
    assert client.get("/api/v1/program", headers=headers).status_code == 200


def test_store_limit_covers_every_client(app, client, clock, woo, monkeypatch):
    _store, keys = woo
    monkeypatch.setitem(app.config, "STOREFRONT_RATE_STORE", "4/10")
    for cid in ("1", "2", "3", "4"):
        token = mint_customer_token("woo.example.com", cid, keys.secret, expires_at=int(NOW) + 600)
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    token = mint_customer_token("woo.example.com", "5", keys.secret, expires_at=int(NOW) + 600)
    refused = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == 10
    # Another store is not affected.
    other = add_store("woocommerce", "https://other.example.com")
    assert client.get("/api/v1/program", headers={"X-PPE-Store": _keys(other).public_key}).status_code == 200


def test_limits_fail_open_without_redis(app, client, clock, woo, monkeypatch):
    _store, keys = woo
    monkeypatch.setitem(app.config, "STOREFRONT_RATE_CLIENT", "1/60")
    monkeypatch.setitem(app.extensions, "redis_down_until", float("inf"))
    codes = [client.get("/api/v1/program", headers={"X-PPE-Store": keys.public_key}).status_code for _ in range(3)]
    assert codes == [200, 200, 200]


def test_cors_preflight_and_origins(client, ctx, clock):
    store = add_store("shopify")
    from app.extensions import db

    store = db.session.merge(store)
    store.settings = {"storefront": {"origins": ["https://Shop.Example.com/", 7]}}
    db.session.commit()
    keys = _keys(store)
    url = f"/api/v1/program?store={keys.public_key}"
    for origin in ("https://test-shop.myshopify.com", "https://shop.example.com:443"):
        pre = client.options(url, headers={"Origin": origin, "Access-Control-Request-Method": "GET"})
        assert pre.status_code == 204
        assert pre.headers["Access-Control-Allow-Origin"] == origin
        assert "GET" in pre.headers["Access-Control-Allow-Methods"]
        assert "X-PPE-Customer-Token" in pre.headers["Access-Control-Allow-Headers"]
        assert "Cache-Control" in pre.headers["Access-Control-Allow-Headers"]  # the widget's no-cache read
        assert "Origin" in pre.headers["Vary"]
        real = client.get(url, headers={"Origin": origin})
        assert real.status_code == 200 and real.headers["Access-Control-Allow-Origin"] == origin
    for origin in ("https://evil.example", "http://test-shop.myshopify.com", "null"):
        pre = client.options(url, headers={"Origin": origin, "Access-Control-Request-Method": "GET"})
        assert pre.status_code == 403 and "Access-Control-Allow-Origin" not in pre.headers
        real = client.get(url, headers={"Origin": origin})
        assert real.status_code == 403 and real.json["error"] == "origin_not_allowed"
    # A method the route does not have, and a preflight that names no store.
    bad = client.options(
        url, headers={"Origin": "https://test-shop.myshopify.com", "Access-Control-Request-Method": "DELETE"}
    )
    assert bad.status_code == 403
    no_store = client.options("/api/v1/program", headers={"Origin": "https://test-shop.myshopify.com"})
    assert no_store.status_code == 403


def test_woo_origin_is_the_site(client, ctx, clock):
    store = add_store("woocommerce", "https://woo.example.com/shop/")
    keys = _keys(store)
    answer = client.get(f"/api/v1/program?store={keys.public_key}", headers={"Origin": "https://woo.example.com"})
    assert answer.headers.get("Access-Control-Allow-Origin") == "https://woo.example.com"
    other = client.get(f"/api/v1/program?store={keys.public_key}", headers={"Origin": "https://example.com"})
    assert other.status_code == 403


def test_body_cap_413(app, client, clock, woo, monkeypatch):
    _store, keys = woo
    headers = {"X-PPE-Store": keys.public_key, "Content-Type": "application/json"}
    assert client.get("/api/v1/me", headers=headers, data=b"x" * 65536).status_code == 200
    too_big = client.get("/api/v1/me", headers=headers, data=b"x" * 65537)
    assert too_big.status_code == 413 and too_big.json["error"] == "request_entity_too_large"
    monkeypatch.setitem(app.config, "STOREFRONT_MAX_BODY_BYTES", 100)
    assert client.get("/api/v1/me", headers=headers, data=b"x" * 101).status_code == 413


def test_json_errors_everywhere(client, ctx):
    for path in ("/api/v1/nope", "/proxy/api/v1/nope", "/proxy/api/v1/me"):
        answer = client.get(path)
        assert answer.is_json and answer.status_code in (401, 404), path
    wrong_method = client.post("/api/v1/me")
    assert wrong_method.status_code == 405 and wrong_method.json["error"] == "method_not_allowed"
    assert "GET" in wrong_method.headers["Allow"]
    # Outside the storefront prefixes errors stay as they were.
    assert not client.get("/nope").is_json


def test_program_reads_loyalty_settings_tolerantly(ctx):
    from app.storefront.routes import program_description

    store = add_store("shopify", currency="USD")
    store.settings = {
        "loyalty": {
            "name": "Club",
            "points_per_unit": 5,
            "rewards": [{"name": "$5 off", "points": 500}, {"title": "Free ship", "points_cost": "250"}, "junk", {}],
        }
    }
    described = program_description(store)
    assert described == {
        "name": "Club",
        "currency": "USD",
        "earn_text": "Earn 5 points for every 1 USD spent",
        "rewards": [
            {"name": "$5 off", "points": 500, "description": None},
            {"name": "Free ship", "points": 250, "description": None},
        ],
    }
    store.settings = {"loyalty": {"rewards": "oops", "name": 3, "points_per_unit": 1.5}}
    assert program_description(store)["name"] == "Rewards" and program_description(store)["rewards"] == []


def test_limits_reload_their_script_after_a_flush(app, client, clock, woo, monkeypatch):
    from app.platform.queue import get_redis

    _store, keys = woo
    monkeypatch.setitem(app.config, "STOREFRONT_RATE_CLIENT", "2/60")
    headers = {"X-PPE-Store": keys.public_key}
    get_redis().script_flush()  # the server forgets the script (a restart, a SCRIPT FLUSH): loaded again on use
    assert client.get("/api/v1/program", headers=headers).status_code == 200
    get_redis().script_flush()
    assert client.get("/api/v1/program", headers=headers).status_code == 200
    assert client.get("/api/v1/program", headers=headers).status_code == 429  # still counted across the reloads


def test_limits_fail_open_when_redis_refuses_then_count_again(app, client, clock, woo, monkeypatch):
    import socket

    from redis import Redis

    _store, keys = woo
    monkeypatch.setitem(app.config, "STOREFRONT_RATE_CLIENT", "1/60")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    working = app.extensions["redis"]
    monkeypatch.setitem(app.extensions, "redis", Redis(port=port, socket_connect_timeout=1))
    headers = {"X-PPE-Store": keys.public_key}
    path = "/api/v1/products/p1/reviews/summary"  # the door's route: its limiter's own connection
    assert [client.get(path, headers=headers).status_code for _ in range(2)] == [200, 200]  # served, uncounted
    assert app.extensions["redis_down_until"] > 0  # the failure was noted: the next requests skip Redis a while
    monkeypatch.setitem(app.extensions, "redis", working)
    monkeypatch.setitem(app.extensions, "redis_down_until", 0.0)
    assert [client.get(path, headers=headers).status_code for _ in range(2)] == [200, 429]  # counted again
