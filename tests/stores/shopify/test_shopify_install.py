"""Installing from the Shopify App Store: the install query's HMAC and shop checks, the code grant, webhooks.

Over real HTTP against the stand-in; token exchange, refresh and revocation are in test_shopify_tokens.py.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text

from connectors.shopify import COMPLIANCE_TOPICS, ShopifyConnector
from tests.stores.shopify import conftest as shared
from tests.stores.shopify.conftest import (
    API_KEY,
    APP_URL,
    EXAMPLE,
    SHOP,
    code_grant,
    credentials,
    install_query,
    signed,
    store_row,
)

# The shared fixtures, bound by name in this module (where pytest looks for them); an import would read
# as unused to the linter.
clock, http, shop_app, standin = shared.clock, shared.http, shared.shop_app, shared.standin

# The suite's secret is shorter than a real client secret; PyJWT warns about that, not about our code.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


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
    from app.stores.models.shopify import ShopifyInstall

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
    assert standin.subscriptions(SHOP) == []  # shopify.app.toml subscribes every shop (test_shopify_webhooks.py)
    result = shop_app.test_cli_runner().invoke(args=["stores", "list"])
    assert result.exit_code == 0, (result.output, result.exception)
    listed = json.loads(result.output)
    assert [(s["domain"], s["installed"], s["webhooks_status"]) for s in listed] == [(SHOP, True, "active")]
    assert set(listed[0]["webhook_topics"]) == {t for t in ShopifyConnector.topics if t not in COMPLIANCE_TOPICS}

    # The callback cannot be replayed: its state was consumed.
    assert http.get("/shopify/callback?" + callback_query).get_json() == {"error": "state"}

    # Reinstall: a new token, still no shop-specific subscription.
    again, _ = code_grant(http, standin, clock)
    assert again.status_code == 302
    assert credentials(shop_app)["access_token"] != creds["access_token"]
    assert standin.subscriptions(SHOP) == [] and standin.calls["webhookSubscriptionCreate"] == 0
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


def test_install_reads_the_shops_name_currency_time_zone_and_e_mail(http, shop_app, standin, clock):
    """The `shop` query is validated against the real 2026-10 schema by the stand-in, as every document is."""
    standin.state(SHOP).details.update(name="Maple & Co", currencyCode="CAD", ianaTimezone="America/Vancouver")
    standin.state(SHOP).details["contactEmail"] = "hello@maple.example"
    code_grant(http, standin, clock)
    store = store_row(shop_app)
    assert (store.name, store.currency, store.timezone, store.contact_email) == (
        "Maple & Co", "CAD", "America/Vancouver", "hello@maple.example",
    )  # fmt: skip
    assert standin.calls["shop"] == 1
    standin.state(SHOP).details.update(name="Maple", contactEmail="")  # no public address: the owner's
    standin.graphql_failures.append(503)  # a reinstall while the Admin API is down: the install still completes
    assert code_grant(http, standin, clock)[0].status_code == 302
    assert store_row(shop_app).name == "Maple & Co"
    code_grant(http, standin, clock)
    assert (store_row(shop_app).name, store_row(shop_app).contact_email) == ("Maple", "owner@example.com")
