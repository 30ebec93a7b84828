"""connectors/shopify_admin.py over real HTTP: the ShopifyAPI package against the stand-in Shopify."""

from __future__ import annotations

import pytest

from connectors.exceptions import RateLimited, StoreUnavailable
from connectors.shopify import COMPLIANCE_TOPICS, ShopifyConnector
from connectors.shopify_admin import (
    API_VERSION,
    AdminAPIError,
    AdminClient,
    TokenClient,
    TokenRequestError,
    graphql_topic,
)
from connectors.shopify_webhooks import remove_shop_subscriptions, shop_subscriptions
from tests.standins.shopify import StandInServer, StandInShopify

SHOP = "admin-shop.myshopify.com"
URI = "https://app.example.com/webhooks/shopify"
TOPICS = [t for t in ShopifyConnector.topics if t not in COMPLIANCE_TOPICS]


@pytest.fixture
def standin():
    with StandInServer(StandInShopify(api_key="key", api_secret="secret")) as server:
        yield server


@pytest.fixture
def admin(standin):
    token = standin.issue_tokens(SHOP)["access_token"]
    return AdminClient(SHOP, token, origin=standin.origin())


def test_pinned_version_and_production_origin():
    assert API_VERSION == "2026-10"
    client = AdminClient(SHOP, "shpat_x")
    assert client.endpoint == f"https://{SHOP}/admin/api/2026-10/graphql.json"


def test_endpoint_is_rewritten_only_in_origin(standin, admin):
    assert admin.endpoint == f"{standin.base_url}/{SHOP}/admin/api/2026-10/graphql.json"


def test_valid_document_returns_data(admin):
    data = admin.execute("{ webhookSubscriptions(first: 5) { nodes { id topic uri } } }")
    assert data == {"webhookSubscriptions": {"nodes": []}}


def test_document_errors_surface_as_admin_api_error(standin, admin):
    with pytest.raises(AdminAPIError) as caught:
        admin.execute("{ webhookSubscriptions(first: 5) { nodes { id topik } } }")
    assert "Cannot query field 'topik'" in str(caught.value)
    with pytest.raises(AdminAPIError) as caught:
        admin.execute(
            'mutation { webhookSubscriptionCreate(topic: ORDERS_CREATE, input: {uri: "x"}) { userErrors { message } } }'
        )
    assert "Unknown argument 'input'" in str(caught.value)
    assert caught.value.errors


def test_throttled_surfaces_as_rate_limited_with_retry_after(standin, admin):
    standin.graphql_failures.append("throttle")
    with pytest.raises(RateLimited) as caught:
        admin.execute("{ webhookSubscriptions(first: 1) { nodes { id } } }")
    # 500 requested - 100 available, restored at 100 points/s
    assert caught.value.retry_after == 4


def test_http_429_is_rate_limited_and_5xx_store_unavailable(standin, admin):
    standin.graphql_failures.extend([429, 503])
    with pytest.raises(RateLimited):
        admin.execute("{ webhookSubscriptions(first: 1) { nodes { id } } }")
    with pytest.raises(StoreUnavailable):
        admin.execute("{ webhookSubscriptions(first: 1) { nodes { id } } }")


def test_bad_token_is_refused(standin):
    client = AdminClient(SHOP, "shpat_wrong", origin=standin.origin())
    with pytest.raises(AdminAPIError) as caught:
        client.execute("{ webhookSubscriptions(first: 1) { nodes { id } } }")
    assert not isinstance(caught.value, (RateLimited, StoreUnavailable))


def test_removing_shop_subscriptions_takes_only_the_named_topics_at_any_uri(standin, admin):
    for topic in TOPICS:
        standin.add_subscription(SHOP, graphql_topic(topic), URI)
    standin.add_subscription(SHOP, "ORDERS_PAID", "https://old.example.com/webhooks/shopify")
    standin.add_subscription(SHOP, "PRODUCTS_UPDATE", URI)
    assert set(shop_subscriptions(admin, TOPICS)) == set(TOPICS)
    assert remove_shop_subscriptions(admin, TOPICS) == len(TOPICS) + 1
    assert [s["topic"] for s in standin.subscriptions(SHOP)] == ["PRODUCTS_UPDATE"]
    assert remove_shop_subscriptions(admin, TOPICS) == 0  # safe to repeat


def test_listing_follows_pages(admin, monkeypatch):
    pages = iter(
        [
            {
                "webhookSubscriptions": {
                    "nodes": [{"id": "gid://1", "topic": "ORDERS_PAID"}],
                    "pageInfo": {"hasNextPage": True, "endCursor": "c1"},
                }
            },
            {
                "webhookSubscriptions": {
                    "nodes": [{"id": "gid://2", "topic": "ORDERS_PAID"}],
                    "pageInfo": {"hasNextPage": False},
                }
            },
        ]
    )
    seen = []
    monkeypatch.setattr(
        admin, "execute", lambda document, variables=None: seen.append(variables["after"]) or next(pages)
    )
    assert shop_subscriptions(admin, ["orders/paid"]) == {"orders/paid": ["gid://1", "gid://2"]}
    assert seen == [None, "c1"]


def test_token_client_grants_and_refusals(standin):
    client = TokenClient("key", "secret", origin=standin.origin())
    grant = client.exchange_code(SHOP, standin.issue_code(SHOP))
    assert grant.expires_in == 3600 and grant.refresh_token and grant.refresh_token_expires_in
    with pytest.raises(TokenRequestError):
        client.exchange_code(SHOP, "not-a-code")
    rotated = client.refresh(SHOP, grant.refresh_token)
    assert rotated.refresh_token != grant.refresh_token
    with pytest.raises(TokenRequestError) as caught:
        client.refresh(SHOP, grant.refresh_token)  # reuse of a rotated refresh token
    assert "invalid_grant" in str(caught.value)
    standin.token_failures.append(503)
    with pytest.raises(StoreUnavailable):
        client.refresh(SHOP, rotated.refresh_token)
    with pytest.raises(TokenRequestError):
        TokenClient("key", "wrong", origin=standin.origin()).exchange_code(SHOP, standin.issue_code(SHOP))


def test_admin_calls_share_one_verifying_tls_context(monkeypatch):
    """urllib's default builds an SSL context per connection and loads the CA bundle into it (~20 ms of CPU a
    call, bench/README.md "Outbound calls' TLS context"); every Admin call here uses one, as strict as the default."""
    import ssl

    made: list[ssl.SSLContext] = []
    original = ssl.create_default_context

    def counting(*args, **kwargs):
        made.append(original(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(ssl, "create_default_context", counting)
    monkeypatch.setattr(ssl, "_create_default_https_context", counting)
    client = AdminClient(SHOP, "shpat_x", origin="https://127.0.0.1:1")  # nothing listens: refused at once
    for _ in range(3):
        with pytest.raises(StoreUnavailable):
            client.execute("{ shop { name } }")
    assert len(made) <= 1
    from connectors.shopify_graphql import tls_context

    assert tls_context().verify_mode == ssl.CERT_REQUIRED and tls_context().check_hostname
