"""Webhook subscriptions: shopify.app.toml subscribes every shop (app-specific), so installs create none per shop,
and the upgrade removes the shop-specific ones older installs made (a topic subscribed both ways arrives twice).

https://shopify.dev/docs/apps/build/webhooks/subscribe
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from app.stores.shopify_install import APP_SUBSCRIPTION, app_topics
from connectors.shopify import COMPLIANCE_TOPICS, ShopifyConnector
from connectors.shopify_admin import API_VERSION, graphql_topic
from tests.stores.shopify import conftest as shared
from tests.stores.shopify.conftest import APP_URL, SHOP, TOPICS, code_grant, session_token, store_row

clock, http, shop_app, standin = shared.clock, shared.http, shared.shop_app, shared.standin

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

TOML = Path(__file__).resolve().parents[3] / "shopify.app.toml"
URI = APP_URL + "/webhooks/shopify"


def _declared() -> tuple[set[str], set[str], dict]:
    config = tomllib.loads(TOML.read_text())
    topics: set[str] = set()
    compliance: set[str] = set()
    for subscription in config["webhooks"]["subscriptions"]:
        assert subscription["uri"].endswith("/webhooks/shopify"), subscription
        topics.update(subscription.get("topics", []))
        compliance.update(subscription.get("compliance_topics", []))
    return topics, compliance, config


def test_toml_declares_exactly_the_topics_our_code_handles():
    topics, compliance, config = _declared()
    assert topics == set(app_topics())
    assert compliance == set(COMPLIANCE_TOPICS)  # mandatory: only the TOML can subscribe them
    assert topics | compliance == set(ShopifyConnector.topics)
    assert config["webhooks"]["api_version"] == API_VERSION  # payloads shaped as the version our parsers read


def _installed(shop_app):
    from app.extensions import db
    from app.stores.models.shopify import ShopifyInstall

    with shop_app.app_context():
        install = db.session.get(ShopifyInstall, store_row(shop_app).id)
        db.session.expunge_all()
        return install


def test_install_creates_no_shop_specific_subscription(http, shop_app, standin, clock):
    answer, _ = code_grant(http, standin, clock)
    assert answer.status_code == 302
    assert standin.calls["webhookSubscriptionCreate"] == 0
    assert standin.subscriptions(SHOP) == []
    install = _installed(shop_app)
    assert install.webhooks_status == "active"
    assert install.webhooks == dict.fromkeys(app_topics(), APP_SUBSCRIPTION)


def test_reinstall_removes_the_subscriptions_an_older_install_made(http, shop_app, standin, clock):
    old = {topic: standin.add_subscription(SHOP, topic, URI) for topic in TOPICS}
    standin.add_subscription(SHOP, "ORDERS_CREATE", "https://old-host.example.com/webhooks/shopify")  # APP_URL moved
    answer, _ = code_grant(http, standin, clock)
    assert answer.status_code == 302
    assert standin.subscriptions(SHOP) == []
    assert standin.calls["webhookSubscriptionDelete"] == len(old) + 1
    assert standin.calls["webhookSubscriptionCreate"] == 0
    assert _installed(shop_app).webhooks_status == "active"


def test_opening_the_app_upgrades_a_store_an_older_version_installed(http, shop_app, standin, clock):
    from app.extensions import db
    from app.stores.models.shopify import ShopifyInstall

    headers = {"Authorization": "Bearer " + session_token(clock)}
    assert http.post("/shopify/session", headers=headers).status_code == 200  # installed today
    # What an older version left: shop-specific subscriptions, recorded topic -> gid, status active.
    gids = {topic: standin.add_subscription(SHOP, graphql_topic(topic), URI) for topic in app_topics()}
    with shop_app.app_context():
        install = db.session.get(ShopifyInstall, store_row(shop_app).id)
        install.webhooks = gids
        db.session.commit()
    deletes = standin.calls["webhookSubscriptionDelete"]
    assert http.post("/shopify/session", headers=headers).status_code == 200
    assert standin.subscriptions(SHOP) == []
    assert standin.calls["webhookSubscriptionDelete"] == deletes + len(TOPICS)
    assert _installed(shop_app).webhooks == dict.fromkeys(app_topics(), APP_SUBSCRIPTION)
    # Upgraded: the next opening asks Shopify nothing about webhooks.
    lists = standin.calls["webhookSubscriptions"]
    assert http.post("/shopify/session", headers=headers).status_code == 200
    assert standin.calls["webhookSubscriptions"] == lists


def test_a_subscription_to_a_topic_we_do_not_declare_is_left_alone(http, shop_app, standin, clock):
    standin.add_subscription(SHOP, "PRODUCTS_UPDATE", URI)
    code_grant(http, standin, clock)
    assert [s["topic"] for s in standin.subscriptions(SHOP)] == ["PRODUCTS_UPDATE"]


def test_failure_is_visible_and_retried_when_the_app_is_opened(http, shop_app, standin, clock):
    standin.add_subscription(SHOP, "ORDERS_PAID", URI)
    standin.graphql_failures.extend([503, 503])  # the shop's details (kept as they were), then the webhooks
    answer, _ = code_grant(http, standin, clock)
    assert answer.status_code == 302  # the install itself completed
    install = _installed(shop_app)
    assert install.webhooks_status == "error" and "StoreUnavailable" in install.last_error
    assert len(standin.subscriptions(SHOP)) == 1
    assert http.post("/shopify/session", headers={"Authorization": "Bearer " + session_token(clock)}).status_code == 200
    assert standin.subscriptions(SHOP) == []
    assert _installed(shop_app).webhooks_status == "active"


def test_cli_upgrades_every_store_that_needs_it(http, shop_app, standin, clock):
    from app.extensions import db
    from app.stores.models.shopify import ShopifyInstall

    code_grant(http, standin, clock)
    standin.add_subscription(SHOP, "ORDERS_PAID", URI)
    with shop_app.app_context():
        install = db.session.get(ShopifyInstall, store_row(shop_app).id)
        install.webhooks = {**install.webhooks, "orders/paid": "gid://shopify/WebhookSubscription/1"}
        db.session.commit()
    result = shop_app.test_cli_runner().invoke(args=["stores", "sync-webhooks"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert json.loads(result.output) == [
        {"domain": SHOP, "store_id": store_row(shop_app).id, "webhooks_status": "active"}
    ]
    assert standin.subscriptions(SHOP) == []
    again = shop_app.test_cli_runner().invoke(args=["stores", "sync-webhooks"])
    assert json.loads(again.output) == []  # nothing left to do
