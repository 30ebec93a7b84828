"""The admin API answers only to the store's own merchant: a session token or an admin token, never a store id."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt

from tests.conftest import SHOPIFY_SECRET
from tests.helpers import SHOP, add_store

API_KEY = "test-api-key"


def _session_token(shop: str, *, secret: str = SHOPIFY_SECRET, exp_in: float = 60, **overrides: Any) -> str:
    now = time.time()
    claims = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": API_KEY,
        "sub": "42",
        "exp": now + exp_in,
        "nbf": now - 5,
        "iat": now - 5,
        "jti": "t",
        "sid": "s",
    }
    return jwt.encode({**claims, **overrides}, secret, algorithm="HS256")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_shopify_session_token_resolves_its_own_shop(app, client, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "SHOPIFY_API_KEY", API_KEY)
    store = add_store("shopify")
    add_store("shopify", "other-shop.myshopify.com")
    answer = client.get("/admin/api/v1/store", headers=_bearer(_session_token(SHOP)))
    assert answer.status_code == 200
    assert answer.json["id"] == store.id and answer.json["domain"] == SHOP


def test_bad_session_tokens_are_refused(app, client, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "SHOPIFY_API_KEY", API_KEY)
    add_store("shopify")
    assert client.get("/admin/api/v1/store").status_code == 401
    for token in (
        _session_token(SHOP, secret="not-the-secret"),
        _session_token(SHOP, exp_in=-60),
        _session_token("unknown-shop.myshopify.com"),
        # The admin API verifies with the install's verifier (tests/stores/shopify/test_shopify_tokens.py).
        _session_token(SHOP, exp=str(int(time.time()) + 60)),
        _session_token(SHOP, iss=f"https://{SHOP}"),
        "garbage",
    ):
        answer = client.get("/admin/api/v1/store", headers=_bearer(token))
        assert answer.status_code == 401, token
        assert answer.json == {"error": "unauthorized"}


def test_admin_token_from_the_cli_scopes_to_one_store_and_revokes(app, client, ctx):
    store = add_store("woocommerce")
    runner = app.test_cli_runner()
    issued = json.loads(runner.invoke(args=["stores", "admin-token", str(store.id)]).output)
    answer = client.get("/admin/api/v1/store", headers=_bearer(issued["token"]))
    assert answer.status_code == 200 and answer.json["id"] == store.id

    tampered = issued["token"][:-2] + ("AA" if not issued["token"].endswith("AA") else "BB")
    assert client.get("/admin/api/v1/store", headers=_bearer(tampered)).status_code == 401

    fresh = json.loads(runner.invoke(args=["stores", "admin-token", str(store.id), "--revoke"]).output)
    assert client.get("/admin/api/v1/store", headers=_bearer(issued["token"])).status_code == 401
    assert client.get("/admin/api/v1/store", headers=_bearer(fresh["token"])).status_code == 200


def test_admin_token_of_an_uninstalled_store_is_refused(app, client, ctx):
    from app.extensions import db

    store = add_store("woocommerce")
    token = json.loads(app.test_cli_runner().invoke(args=["stores", "admin-token", str(store.id)]).output)["token"]
    store.status = "uninstalled"
    db.session.commit()
    assert client.get("/admin/api/v1/store", headers=_bearer(token)).status_code == 401
