"""Installing from the Shopify App Store: code grant, token exchange, token refresh, webhooks, over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from sqlalchemy import select, text

from connectors.shopify import COMPLIANCE_TOPICS, ShopifyConnector
from connectors.shopify_admin import TokenClient, TokenRequestError, graphql_topic
from tests.conftest import SHOPIFY_SECRET
from tests.standins.shopify import StandInServer, StandInShopify

# The suite's secret is shorter than a real client secret; PyJWT warns about that, not about our code.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

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


def signed(params: dict[str, str], secret: str = SHOPIFY_SECRET) -> str:
    from app.services.shopify_auth import query_hmac

    query = dict(params)
    query["hmac"] = query_hmac({k: [v] for k, v in params.items()}, secret)
    return urlencode(query)


def install_query(clock: Clock, shop: str = SHOP) -> str:
    return signed({"shop": shop, "timestamp": str(int(clock()))})


def store_row(shop_app, shop: str = SHOP):
    from app.extensions import db
    from app.models import Store

    with shop_app.app_context():
        store = db.session.scalar(select(Store).where(Store.domain == shop))
        db.session.expunge_all()
        return store


def credentials(shop_app, shop: str = SHOP) -> dict:
    from app.security import secret_box

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


# -- the install request ---------------------------------------------------------------------------


def test_documented_example_is_accepted(http, shop_app, monkeypatch):
    monkeypatch.setitem(shop_app.config, "SHOPIFY_API_SECRET", "hush")
    monkeypatch.setitem(shop_app.config, "SHOPIFY_CLOCK", lambda: 1337178173.0)
    answer = http.get("/shopify/install?" + EXAMPLE)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == (
        "https",
        "some-shop.myshopify.com",
        "/admin/oauth/authorize",
    )
    query = parse_qs(location.query)
    assert query["client_id"] == [API_KEY]
    assert query["redirect_uri"] == [APP_URL + "/shopify/callback"]
    assert "write_discounts" in query["scope"][0] and len(query["state"][0]) >= 32


@pytest.mark.parametrize(
    "tampered",
    [
        EXAMPLE.replace("hmac=700e", "hmac=700f"),
        EXAMPLE.replace("state=0.678", "state=0.679"),
        EXAMPLE.replace("shop=some-shop", "shop=some-shoq"),
        EXAMPLE.replace("timestamp=1337178173", "timestamp=1337178174"),
    ],
)
def test_documented_example_with_one_byte_changed_is_refused(http, shop_app, monkeypatch, tampered):
    monkeypatch.setitem(shop_app.config, "SHOPIFY_API_SECRET", "hush")
    monkeypatch.setitem(shop_app.config, "SHOPIFY_CLOCK", lambda: 1337178173.0)
    answer = http.get("/shopify/install?" + tampered)
    assert answer.status_code == 401 and "Location" not in answer.headers


@pytest.mark.parametrize(
    "shop",
    [
        "evil.com",
        "x.myshopify.com.evil.com",
        "-x.myshopify.com",
        "x.myshopify.com/",
        "https://x.myshopify.com",
        "x_y.myshopify.com",
        "",
    ],
)
def test_foreign_or_invalid_shops_are_refused_before_any_redirect(http, standin, clock, shop):
    answer = http.get("/shopify/install?" + install_query(clock, shop))  # correctly signed
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert answer.get_json() == {"error": "shop"}


def test_newline_after_shop_is_refused(http, standin, clock):
    answer = http.get("/shopify/install?" + install_query(clock, "x.myshopify.com\n"))
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_missing_or_bad_hmac_is_refused(http, standin, clock):
    assert http.get(f"/shopify/install?shop={SHOP}&timestamp={int(clock())}").status_code == 401
    bad = signed({"shop": SHOP, "timestamp": str(int(clock()))}, secret="not-our-secret")
    assert http.get("/shopify/install?" + bad).status_code == 401


def test_stale_and_future_timestamps_are_refused(http, standin, clock):
    for timestamp in (clock() - 86400 - 5, clock() + 3600):
        answer = http.get("/shopify/install?" + signed({"shop": SHOP, "timestamp": str(int(timestamp))}))
        assert answer.status_code == 401 and answer.get_json() == {"error": "timestamp"}


# -- the code grant, end to end ---------------------------------------------------------------------


def test_code_grant_installs_the_store_with_sealed_tokens_and_webhooks_once(http, shop_app, standin, clock):
    from app.extensions import db
    from app.models.install import ShopifyInstall

    answer, callback_query = code_grant(http, standin, clock)
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"https://{SHOP}/admin/apps/{API_KEY}"
    store = store_row(shop_app)
    assert store.status == "active"
    creds = credentials(shop_app)
    assert creds["access_token"].startswith("shpat_") and creds["refresh_token"].startswith("shprt_")
    assert creds["access_token_expires_at"] == int(clock()) + 3600
    with shop_app.app_context():
        raw = db.session.execute(text("SELECT credentials FROM stores WHERE id = :id"), {"id": store.id}).scalar()
        install = db.session.get(ShopifyInstall, store.id)
        assert install.webhooks_status == "active"
        assert set(install.webhooks) == {t for t in ShopifyConnector.topics if t not in COMPLIANCE_TOPICS}
    assert creds["access_token"].encode() not in bytes(raw) and creds["refresh_token"].encode() not in bytes(raw)
    subscriptions = standin.subscriptions(SHOP)
    assert sorted(s["topic"] for s in subscriptions) == TOPICS
    assert {s["uri"] for s in subscriptions} == {APP_URL + "/webhooks/shopify"}
    result = shop_app.test_cli_runner().invoke(args=["stores", "list"])
    assert result.exit_code == 0, (result.output, result.exception)
    listed = json.loads(result.output)
    assert [(s["domain"], s["installed"], s["webhooks_status"]) for s in listed] == [(SHOP, True, "active")]
    assert set(listed[0]["webhook_topics"]) == {t for t in ShopifyConnector.topics if t not in COMPLIANCE_TOPICS}

    # The callback cannot be replayed: its state was consumed.
    assert http.get("/shopify/callback?" + callback_query).get_json() == {"error": "state"}

    # Reinstall: a new token, still one subscription per topic.
    again, _ = code_grant(http, standin, clock)
    assert again.status_code == 302
    assert credentials(shop_app)["access_token"] != creds["access_token"]
    assert sorted(s["topic"] for s in standin.subscriptions(SHOP)) == TOPICS
    assert standin.calls["authorization_code"] == 2


def test_state_must_match_the_shop_and_be_fresh(http, shop_app, standin, clock):
    answer = http.get("/shopify/install?" + install_query(clock))
    state = parse_qs(urlsplit(answer.headers["Location"]).query)["state"][0]
    other = signed(
        {
            "code": standin.issue_code("other.myshopify.com"),
            "shop": "other.myshopify.com",
            "state": state,
            "timestamp": str(int(clock())),
        }
    )
    assert http.get("/shopify/callback?" + other).get_json() == {"error": "state"}
    clock.value += 3600  # past SHOPIFY_STATE_TTL_SECONDS
    late = signed({"code": standin.issue_code(SHOP), "shop": SHOP, "state": state, "timestamp": str(int(clock()))})
    assert http.get("/shopify/callback?" + late).get_json() == {"error": "state"}
    assert standin.calls["authorization_code"] == 0


def test_webhook_failure_is_visible_and_retryable(http, shop_app, standin, clock):
    from app.extensions import db
    from app.install.shopify import register_store_webhooks
    from app.models.install import ShopifyInstall

    standin.refuse_topics = {"ORDERS_PAID"}
    answer, _ = code_grant(http, standin, clock)
    assert answer.status_code == 302  # the install itself completed
    store = store_row(shop_app)
    with shop_app.app_context():
        install = db.session.get(ShopifyInstall, store.id)
        assert install.webhooks_status == "error" and "orders/paid" in install.last_error
        standin.refuse_topics = set()
        standin.graphql_failures.append(503)
        assert register_store_webhooks(store.id) is False
        assert "StoreUnavailable" in db.session.get(ShopifyInstall, store.id).last_error
        assert register_store_webhooks(store.id) is True
        db.session.expire_all()
        assert db.session.get(ShopifyInstall, store.id).webhooks_status == "active"
    assert sorted(s["topic"] for s in standin.subscriptions(SHOP)) == TOPICS


# -- token exchange (embedded app) ----------------------------------------------------------------------


def session_token(
    clock: Clock,
    *,
    shop: str = SHOP,
    dest: str | None = None,
    aud: str = API_KEY,
    secret: str = SHOPIFY_SECRET,
    exp_in: float = 60,
) -> str:
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
    return jwt.encode(claims, secret, algorithm="HS256")


def test_token_exchange_installs_once(http, shop_app, standin, clock):
    headers = {"Authorization": "Bearer " + session_token(clock)}
    answer = http.post("/shopify/session", headers=headers)
    assert answer.status_code == 200 and answer.get_json()["shop"] == SHOP
    assert credentials(shop_app)["refresh_token"].startswith("shprt_")
    assert sorted(s["topic"] for s in standin.subscriptions(SHOP)) == TOPICS
    assert http.post("/shopify/session", headers=headers).status_code == 200
    assert standin.calls["urn:ietf:params:oauth:grant-type:token-exchange"] == 1  # token kept, not re-exchanged


@pytest.mark.parametrize(
    "kwargs",
    [
        {"exp_in": -60},  # expired beyond the leeway
        {"aud": "someone-else"},
        {"dest": "evil.myshopify.com"},  # iss and dest disagree
        {"dest": "evil.com"},
        {"secret": "not-our-secret"},
    ],
)
def test_bad_session_tokens_are_refused(http, standin, clock, kwargs):
    answer = http.post("/shopify/session", headers={"Authorization": "Bearer " + session_token(clock, **kwargs)})
    assert answer.status_code == 401 and answer.get_json() == {"error": "session_token"}
    assert standin.calls["urn:ietf:params:oauth:grant-type:token-exchange"] == 0


def test_missing_session_token_is_refused(http, standin):
    assert http.post("/shopify/session").status_code == 401


# -- expiring tokens ----------------------------------------------------------------------------------


def test_concurrent_refresh_calls_the_token_endpoint_once(http, shop_app, standin, clock):
    from app.install.shopify import access_token

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
        from app.install.shopify import admin_client
        from app.models import Store

        data = admin_client(db.session.get(Store, store_id)).execute(
            "{ webhookSubscriptions(first: 1) { nodes { id } } }"
        )
        assert data["webhookSubscriptions"]["nodes"]


def test_refresh_race_without_redis_relies_on_the_row_lock(http, shop_app, standin, clock, monkeypatch):
    from app.extensions import db
    from app.install import shopify as routes

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
    from app.install.shopify import access_token
    from app.models import Store
    from app.services.shopify_auth import NotInstalled, revoke_access

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
