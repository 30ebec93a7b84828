"""Shared by the balance cache tests: a WooCommerce shopper with a token, reads, the copies (the `bumps` spy
is a fixture in conftest.py)."""

from __future__ import annotations

from flask import current_app

from app.extensions import db
from app.platform.types import utcnow
from app.security import secret_box
from app.storefront import local_state
from app.storefront.auth import mint_customer_token
from app.stores.storefront_keys import ensure_keys
from tests.helpers import add_store

SITE = "cache.example.com"
BALANCE = "/api/v1/me/balance"


def new_shopper(platform_id: str = "7001"):
    store = add_store("woocommerce", f"https://{SITE}/")
    keys = ensure_keys(db.session, secret_box(), store)
    db.session.commit()
    token = mint_customer_token(SITE, platform_id, keys.secret, expires_at=int(utcnow().timestamp()) + 600)
    return store, {"Authorization": f"Bearer {token}"}


def read_balance(client, headers):  # noqa: ANN001, ANN202
    """A request in its own transaction, as in production (here the test's session is shared with the app)."""
    db.session.commit()
    return client.get(BALANCE, headers=headers)


def copies() -> list[object]:
    """The answers this process keeps (storefront/local_state.py)."""
    return list(local_state.state(current_app).copies)


def fresh_balance(client, headers) -> dict:
    """The answer computed from the database: the copies are dropped first."""
    local_state.forget(current_app)
    answer = read_balance(client, headers)
    assert answer.status_code == 200, answer.json
    return answer.json
