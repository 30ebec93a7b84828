"""Shared by test_shopify_install.py and test_shopify_tokens.py beside it: the app configured for the Shopify
stand-in (tests/standins/shopify.py) served over real HTTP, an injectable clock, signed install queries and session
tokens, and a completed code grant.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import pytest
import requests
import shopify
from sqlalchemy import select

from app.extensions import db
from app.security import secret_box
from app.stores.models import Store
from connectors.shopify import COMPLIANCE_TOPICS, ShopifyConnector
from connectors.shopify_admin import graphql_topic
from tests.conftest import SHOPIFY_SECRET
from tests.standins.shopify import StandInServer, StandInShopify

API_KEY = "test-api-key"


APP_URL = "https://app.example.com"


SHOP = "test-shop.myshopify.com"


TOPICS = sorted(graphql_topic(t) for t in ShopifyConnector.topics if t not in COMPLIANCE_TOPICS)


# Shopify's documented example (secret "hush"), from the authorization code grant guide.
EXAMPLE = (
    "code=0907a61c0c8d55e99db179b68161bc00&hmac=700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"
    "&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173"
)


class Clock:
    def __init__(self) -> None:
        self.value = time.time()

    def __call__(self) -> float:
        return self.value


@pytest.fixture(scope="module")
def shop_app(app):
    """A separate app instance (the shared one may have served requests already), configured for the stand-in."""
    from app import create_app
    from app.config import TestingConfig

    application = create_app(TestingConfig())
    application.config.update(SHOPIFY_API_KEY=API_KEY, APP_URL=APP_URL)
    return application


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def standin(shop_app, clock, monkeypatch):
    with StandInServer(StandInShopify(api_key=API_KEY, api_secret=SHOPIFY_SECRET, now=clock)) as server:
        monkeypatch.setitem(shop_app.config, "SHOPIFY_ADMIN_ORIGIN", server.origin())
        monkeypatch.setitem(shop_app.config, "SHOPIFY_CLOCK", clock)
        yield server


@pytest.fixture
def http(shop_app):
    return shop_app.test_client()


def library_hmac(params: Mapping[str, str | list[str]], secret: str) -> str:
    """The query HMAC as Shopify's own Python library computes it (ShopifyAPI's shopify.Session)."""
    saved = shopify.Session.secret
    shopify.Session.secret = secret
    try:
        return str(shopify.Session.calculate_hmac(dict(params)))
    finally:
        shopify.Session.secret = saved


def signed(params: dict[str, str], secret: str = SHOPIFY_SECRET) -> str:
    """A query signed by Shopify's library, not by the code under test."""
    return urlencode({**params, "hmac": library_hmac(params, secret)})


def install_query(clock: Clock, shop: str = SHOP) -> str:
    return signed({"shop": shop, "timestamp": str(int(clock()))})


def store_row(shop_app, shop: str = SHOP):

    with shop_app.app_context():
        store = db.session.scalar(select(Store).where(Store.domain == shop))
        db.session.expunge_all()
        return store


def credentials(shop_app, shop: str = SHOP) -> dict:

    with shop_app.app_context():
        return secret_box().open(store_row(shop_app, shop).credentials)


def code_grant(http, standin, clock, shop: str = SHOP):
    """Install request -> authorize at the stand-in (merchant approves) -> our callback."""
    answer = http.get("/shopify/install?" + install_query(clock, shop))
    assert answer.status_code == 302
    authorize = answer.headers["Location"]
    assert authorize.startswith(f"https://{shop}/admin/oauth/authorize?")
    at_standin = authorize.replace(f"https://{shop}", standin.origin().replace("{shop}", shop), 1)
    approved = requests.get(at_standin, allow_redirects=False, timeout=5)
    assert approved.status_code == 302
    back = urlsplit(approved.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == APP_URL + "/shopify/callback"
    return http.get("/shopify/callback?" + back.query), back.query


# -- token exchange (embedded app) ----------------------------------------------------------------------


def session_token(
    clock: Clock,
    *,
    shop: str = SHOP,
    dest: str | None = None,
    aud: str = API_KEY,
    secret: str = SHOPIFY_SECRET,
    exp_in: float = 60,
    algorithm: str = "HS256",
    **overrides: Any,
) -> str:
    """A session token as App Bridge makes one; `overrides` replace claims (None drops the claim)."""
    now = clock()
    claims = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{dest or shop}",
        "aud": aud,
        "sub": "42",
        "exp": int(now + exp_in),
        "nbf": int(now - 5),
        "iat": int(now - 5),
        "jti": "abc",
        "sid": "s",
    }
    claims = {k: v for k, v in {**claims, **overrides}.items() if v is not None}
    return jwt.encode(claims, secret, algorithm=algorithm)
