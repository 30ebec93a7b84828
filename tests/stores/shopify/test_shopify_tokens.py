"""Shopify access tokens: token exchange (embedded app session tokens), refresh under concurrency, revocation.

Over real HTTP against the stand-in; the install query and code grant are in test_shopify_install.py.
"""

from __future__ import annotations

import threading

import jwt
import pytest
from sqlalchemy import select

from connectors.shopify_admin import TokenClient, TokenRequestError
from tests.conftest import SHOPIFY_SECRET
from tests.stores.shopify import conftest as shared
from tests.stores.shopify.conftest import (
    API_KEY,
    SHOP,
    credentials,
    session_token,
    store_row,
)

# The shared fixtures, bound by name in this module (where pytest looks for them); an import would read
# as unused to the linter.
clock, http, shop_app, standin = shared.clock, shared.http, shared.shop_app, shared.standin

# The suite's secret is shorter than a real client secret; PyJWT warns about that, not about our code.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


def test_token_exchange_installs_once(http, shop_app, standin, clock):
    headers = {"Authorization": "Bearer " + session_token(clock)}
    answer = http.post("/shopify/session", headers=headers)
    assert answer.status_code == 200 and answer.get_json()["shop"] == SHOP
    assert credentials(shop_app)["refresh_token"].startswith("shprt_")
    assert standin.subscriptions(SHOP) == []  # shopify.app.toml subscribes every shop
    assert http.post("/shopify/session", headers=headers).status_code == 200
    assert standin.calls["urn:ietf:params:oauth:grant-type:token-exchange"] == 1  # token kept, not re-exchanged


# What Shopify's libraries refuse (shopify-api-js decodeSessionToken: jose's jwtVerify, HS256 only, numeric
# dates, 10 s tolerance, aud === the API key; ShopifyAPI's shopify/session_token.py: iss, dest, sub, jti, sid
# required, iss a shop's admin matching dest, 10 s leeway), plus Shopify's documented iss form
# (https://{shop}/admin): https://shopify.dev/docs/apps/build/authentication-authorization/session-tokens
@pytest.mark.parametrize(
    "kwargs",
    [
        {"exp_in": -60},  # expired beyond the leeway
        {"aud": "someone-else"},
        {"aud": [API_KEY]},  # a list is not the API key (shopify-api-js compares aud with ===)
        {"dest": "evil.myshopify.com"},  # iss and dest disagree
        {"dest": "evil.com"},
        {"iss": "https://evil.myshopify.com/admin"},  # iss names another shop than dest
        {"iss": f"{SHOP}/admin"},  # no scheme: not a URL of the shop
        {"iss": f"https://{SHOP}"},  # not the shop's admin
        {"iss": f"http://{SHOP}/admin"},
        {"iss": f"https://{SHOP}/admin/other"},
        {"exp": "9999999999"},  # a date sent as a string (jose: "exp" claim must be a number)
        {"nbf": "0"},
        {"iat": "0"},
        {"exp": True},
        {"nbf": 10**12},  # not valid before far in the future
        {"iat": 10**12},  # issued in the future (PyJWT: ImmatureSignatureError)
        {"sub": None},  # ShopifyAPI requires sub, jti and sid
        {"jti": None},
        {"sid": None},
        {"exp": None},
        {"algorithm": "HS512"},  # signed with our secret, but not the algorithm Shopify uses
        {"algorithm": "HS384"},
        {"secret": "not-our-secret"},
    ],
)
def test_bad_session_tokens_are_refused(http, standin, clock, kwargs):
    answer = http.post("/shopify/session", headers={"Authorization": "Bearer " + session_token(clock, **kwargs)})
    assert answer.status_code == 401 and answer.get_json() == {"error": "session_token"}
    assert standin.calls["urn:ietf:params:oauth:grant-type:token-exchange"] == 0


def test_nbf_within_the_leeway_is_accepted(clock):
    # App Bridge sends nbf a little ahead of the server's clock; both libraries allow 10 s.
    from app.stores.shopify_auth import InstallRefused, verify_session_token

    keys = {"api_key": API_KEY, "api_secret": SHOPIFY_SECRET, "now": clock()}
    assert verify_session_token(session_token(clock, nbf=int(clock()) + 8), **keys) == SHOP
    with pytest.raises(InstallRefused):
        verify_session_token(session_token(clock, nbf=int(clock()) + 15), **keys)


def test_unsigned_token_is_refused(http, standin, clock):
    claims = jwt.decode(session_token(clock), options={"verify_signature": False})
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert http.post("/shopify/session", headers={"Authorization": "Bearer " + unsigned}).status_code == 401


def test_missing_session_token_is_refused(http, standin):
    assert http.post("/shopify/session").status_code == 401


# -- expiring tokens ----------------------------------------------------------------------------------


def test_concurrent_refresh_calls_the_token_endpoint_once(http, shop_app, standin, clock):
    from app.stores.shopify_tokens import access_token

    http.post("/shopify/session", headers={"Authorization": "Bearer " + session_token(clock)})
    store_id = store_row(shop_app).id
    old = credentials(shop_app)
    clock.value += 3600 + 1  # the access token has expired
    standin.refresh_delay = 0.3
    results: list[str] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            with shop_app.app_context():
                results.append(access_token(store_id))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert standin.calls["refresh_token"] == 1
    new = credentials(shop_app)
    assert set(results) == {new["access_token"]} and new["access_token"] != old["access_token"]
    assert new["refresh_token"] != old["refresh_token"]
    # The rotated refresh token is dead at the stand-in; the saved one works.
    client = TokenClient(API_KEY, SHOPIFY_SECRET, origin=standin.origin())
    with pytest.raises(TokenRequestError):
        client.refresh(SHOP, old["refresh_token"])
    with shop_app.app_context():
        from app.extensions import db
        from app.stores.models import Store
        from app.stores.shopify_tokens import admin_client

        data = admin_client(db.session.get(Store, store_id)).execute(
            "{ webhookSubscriptions(first: 1) { nodes { id } } }"
        )
        assert data == {"webhookSubscriptions": {"nodes": []}}  # answered: a dead token raises AdminAPIError


def test_refresh_race_without_redis_relies_on_the_row_lock(http, shop_app, standin, clock, monkeypatch):
    from app.extensions import db
    from app.stores import shopify_install as routes

    with shop_app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SELECT ... FOR UPDATE is the PostgreSQL guard; SQLite relies on the Redis lock")

    def no_redis():
        raise ConnectionError("redis down")

    monkeypatch.setattr(routes, "get_redis", no_redis)
    http.post("/shopify/session", headers={"Authorization": "Bearer " + session_token(clock)})
    store_id = store_row(shop_app).id
    clock.value += 3600 + 1
    standin.refresh_delay = 0.3
    results: list[str] = []

    def ask() -> None:
        with shop_app.app_context():
            results.append(routes.access_token(store_id))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert standin.calls["refresh_token"] == 1
    assert len(results) == 6 and len(set(results)) == 1


def test_revoke_access_forgets_the_tokens(http, shop_app, standin, clock):
    from app.extensions import db
    from app.stores.models import Store
    from app.stores.shopify_auth import NotInstalled, revoke_access
    from app.stores.shopify_tokens import access_token

    http.post("/shopify/session", headers={"Authorization": "Bearer " + session_token(clock)})
    with shop_app.app_context():
        store = db.session.scalar(select(Store).where(Store.domain == SHOP))
        revoke_access(db.session, store)
        db.session.commit()
        assert credentials(shop_app) == {}
        with pytest.raises(NotInstalled):
            access_token(store.id)
    # Reinstall through the embedded app exchanges again.
    assert http.post("/shopify/session", headers={"Authorization": "Bearer " + session_token(clock)}).status_code == 200
    assert standin.calls["urn:ietf:params:oauth:grant-type:token-exchange"] == 2
