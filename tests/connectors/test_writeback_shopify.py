"""Shopify write-backs over real HTTP: ShopifyAPI's GraphQL (with our timeout) against the stand-in Shopify,
which validates every document against the real 2026-10 schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from connectors.exceptions import RateLimited, StoreUnavailable
from connectors.shopify_admin import AdminAPIError, UserErrors
from connectors.shopify_discounts import NEW_CUSTOMERS_QUERY
from connectors.shopify_graphql import customer_gid, gid_id, product_gid
from connectors.shopify_metafields import (
    METAFIELDS_PER_CALL,
    MetafieldInput,
    loyalty_metafields,
    rating_metafields,
    set_metafields,
)
from connectors.shopify_writeback import ShopifyWriteback
from connectors.writeback import DiscountSpec, LoyaltyBalance, ProductRating, StoreClient
from tests.connectors.freed import freed_without_collector
from tests.standins.shopify import StandInServer, StandInShopify, admin_schema

SHOP = "writeback-shop.myshopify.com"
NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def standin():
    admin_schema()  # loaded once (about a second) before any client timeout runs
    with StandInServer(StandInShopify(api_key="key", api_secret="secret", slow_seconds=2.5)) as server:
        yield server


@pytest.fixture
def shop(standin):
    token = standin.issue_tokens(SHOP)["access_token"]
    return ShopifyWriteback(SHOP, token, origin=standin.origin(), timeout=1.0)


def codes(standin) -> dict:
    return standin.state(SHOP).writeback.discounts


def redemption(code: str = "LOYAL-7F3K", **overrides) -> DiscountSpec:
    fields = dict(
        code=code,
        title="Loyalty reward",
        kind="fixed_amount",
        value=Decimal("5.00"),
        currency="EUR",
        customer_platform_id="7012",
        usage_limit=1,
    )
    return DiscountSpec(**{**fields, **overrides})


def test_gid_helpers():
    assert customer_gid("123") == "gid://shopify/Customer/123"
    assert product_gid(42) == "gid://shopify/Product/42"
    assert customer_gid("gid://shopify/Customer/9") == "gid://shopify/Customer/9"
    assert gid_id("gid://shopify/Product/42") == "42"
    with pytest.raises(ValueError):
        customer_gid("12; drop")


def test_fixed_amount_code_limited_to_one_customer(standin, shop):
    result = shop.create_discount(redemption(), now=lambda: NOW)
    assert result.created and result.code == "LOYAL-7F3K" and result.platform_id.startswith("gid://shopify/")
    stored = codes(standin)["LOYAL-7F3K"]
    recorded = stored["input"]
    assert stored["kind"] == "basic"
    assert recorded["context"] == {"customers": {"add": ["gid://shopify/Customer/7012"]}}
    assert "customerSelection" not in recorded  # deprecated in favour of context
    assert recorded["usageLimit"] == 1 and recorded["appliesOncePerCustomer"] is False
    assert recorded["customerGets"] == {
        "value": {"discountAmount": {"amount": "5.00", "appliesOnEachItem": False}},
        "items": {"all": True},
    }
    assert recorded["startsAt"] == "2026-11-02T09:30:00Z"
    assert standin.calls["codeDiscountNodeByCode"] == 1 and standin.calls["discountCodeBasicCreate"] == 1


def test_percentage_referral_code_for_new_customers_uses_a_segment(standin, shop):
    spec = DiscountSpec(
        code="FRIEND-ANNA",
        title="A friend's welcome",
        kind="percentage",
        value=Decimal("15"),
        usage_limit=None,
        once_per_customer=True,
        new_customers_only=True,
        minimum_subtotal=Decimal("30.00"),
        ends_at=NOW + timedelta(days=30),
    )
    assert shop.create_discount(spec, now=lambda: NOW).created
    recorded = codes(standin)["FRIEND-ANNA"]["input"]
    assert recorded["customerGets"]["value"] == {"percentage": 0.15}
    assert recorded["appliesOncePerCustomer"] is True and recorded["usageLimit"] is None
    assert recorded["minimumRequirement"] == {"subtotal": {"greaterThanOrEqualToSubtotal": "30.00"}}
    assert recorded["endsAt"] == "2026-12-02T09:30:00Z"
    [segment] = standin.state(SHOP).writeback.segments
    assert segment["query"] == NEW_CUSTOMERS_QUERY
    assert recorded["context"] == {"customerSegments": {"add": [segment["id"]]}}
    # A second referral code reuses the segment.
    shop.create_discount(DiscountSpec(**{**spec.__dict__, "code": "FRIEND-BOB"}), now=lambda: NOW)
    assert len(standin.state(SHOP).writeback.segments) == 1 and standin.calls["segmentCreate"] == 1


def test_free_shipping_code(standin, shop):
    spec = DiscountSpec(code="SHIPFREE-1", title="Free shipping", kind="free_shipping", customer_platform_id="8")
    assert shop.create_discount(spec, now=lambda: NOW).created
    stored = codes(standin)["SHIPFREE-1"]
    assert stored["kind"] == "free_shipping" and stored["input"]["destination"] == {"all": True}
    assert stored["input"]["context"] == {"customers": {"add": ["gid://shopify/Customer/8"]}}
    assert standin.calls["discountCodeFreeShippingCreate"] == 1


def test_existing_code_is_not_created_again(standin, shop):
    first = shop.create_discount(redemption(), now=lambda: NOW)
    again = shop.create_discount(redemption(), now=lambda: NOW)
    assert (again.created, again.platform_id) == (False, first.platform_id)
    assert len(codes(standin)) == 1 and standin.calls["discountCodeBasicCreate"] == 1


def test_throttled_create_then_retry_makes_exactly_one_code(standin, shop):
    standin.graphql_failures.append("throttle")
    with pytest.raises(RateLimited) as caught:
        shop.create_discount(redemption(), now=lambda: NOW)
    assert caught.value.retry_after == 4
    assert codes(standin) == {}
    assert shop.create_discount(redemption(), now=lambda: NOW).created
    assert len(codes(standin)) == 1


def test_lost_answer_then_retry_makes_exactly_one_code(standin, shop):
    # The lookup answers; the create is applied but its answer comes after our 1 s timeout.
    standin.graphql_failures.extend([None, "slow"])
    with pytest.raises(StoreUnavailable):
        shop.create_discount(redemption(), now=lambda: NOW)
    assert len(codes(standin)) == 1  # it did happen at the store
    retried = shop.create_discount(redemption(), now=lambda: NOW)
    assert retried.created is False and retried.platform_id == codes(standin)["LOYAL-7F3K"]["id"]
    assert len(codes(standin)) == 1 and standin.calls["discountCodeBasicCreate"] == 1


def test_taken_after_a_missed_lookup_is_read_back_as_existing(standin, shop):
    first = shop.create_discount(redemption(), now=lambda: NOW)
    lag = standin.state(SHOP).writeback.hidden_from_lookup
    lag.add("LOYAL-7F3K")  # the lookup misses it (replication lag) until the refused create has answered
    execute = shop.execute

    def lag_ends_after_create(document, variables=None):
        answer = execute(document, variables)
        if "discountCodeBasicCreate" in answer:
            lag.clear()
        return answer

    shop.execute = lag_ends_after_create
    standin.calls.clear()
    result = shop.create_discount(redemption(), now=lambda: NOW)
    assert (result.created, result.platform_id) == (False, first.platform_id)
    assert standin.calls["discountCodeBasicCreate"] == 1 and standin.calls["codeDiscountNodeByCode"] == 2
    assert len(codes(standin)) == 1


def test_user_errors_surface(standin, shop):
    shop.create_discount(redemption(), now=lambda: NOW)
    standin.state(SHOP).writeback.hidden_from_lookup.add("LOYAL-7F3K")  # taken, and we cannot see by whom
    with pytest.raises(UserErrors) as caught:
        shop.create_discount(redemption(), now=lambda: NOW)
    assert "TAKEN" in str(caught.value)
    assert caught.value.errors[0]["field"] == ["basicCodeDiscount", "code"]
    assert len(codes(standin)) == 1


def test_spec_refuses_floats_and_naive_dates():
    with pytest.raises(TypeError):
        redemption(value=5.0)
    with pytest.raises(ValueError):
        redemption(ends_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        redemption(currency=None)


def test_metafields_are_batched_25_per_call(standin, shop):
    inputs = []
    for n in range(30):
        inputs += loyalty_metafields(str(1000 + n), points_balance=n * 10, tier="Gold" if n % 2 else None)
    assert len(inputs) == 45
    inputs += rating_metafields("555", Decimal("4.46"), 12) * 1
    inputs += [
        MetafieldInput(product_gid(600 + n), "reviews", "rating_count", "number_integer", "1") for n in range(13)
    ]
    assert len(inputs) == 60
    done = set_metafields(shop, inputs)
    assert len(done) == 60 and standin.calls["metafieldsSet"] == 3 == -(-60 // METAFIELDS_PER_CALL)
    stored = standin.state(SHOP).writeback.metafields
    assert stored[("gid://shopify/Customer/1003", "loyalty", "points_balance")]["value"] == "30"
    assert stored[("gid://shopify/Customer/1003", "loyalty", "tier")]["value"] == "Gold"
    assert ("gid://shopify/Customer/1002", "loyalty", "tier") not in stored
    rating = stored[("gid://shopify/Product/555", "reviews", "rating")]
    assert rating["type"] == "rating"
    assert json.loads(rating["value"]) == {"value": "4.5", "scale_min": "1.0", "scale_max": "5.0"}
    # metafieldsSet is an upsert: the same write again changes values, not the number of metafields.
    set_metafields(shop, loyalty_metafields("1003", points_balance=35, tier="Gold"))
    assert len(stored) == 60 and stored[("gid://shopify/Customer/1003", "loyalty", "points_balance")]["value"] == "35"


def test_metafield_user_errors_name_the_element_over_the_whole_list(standin, shop):
    good = loyalty_metafields("1", 5, None) * 26  # 26 elements: two calls
    bad = MetafieldInput(customer_gid("2"), "loyalty", "points_balance", "number_integer", "lots")
    with pytest.raises(UserErrors) as caught:
        set_metafields(shop, [*good, bad])
    assert [e["elementIndex"] for e in caught.value.errors] == [26]
    assert standin.calls["metafieldsSet"] == 2


def test_more_than_25_in_one_call_is_refused_by_the_standin(standin, shop):
    from connectors.shopify_metafields import SET_METAFIELDS

    variables = {
        "metafields": [
            {
                "ownerId": customer_gid(n),
                "namespace": "loyalty",
                "key": "points_balance",
                "type": "number_integer",
                "value": "1",
            }
            for n in range(1, 27)
        ]
    }
    with pytest.raises(AdminAPIError) as caught:
        shop.execute(SET_METAFIELDS, variables)
    assert "maximum allowed of 25" in str(caught.value)


def test_rating_must_be_within_the_scale():
    with pytest.raises(ValueError):
        rating_metafields("1", Decimal("5.5"), 3)


def test_loyalty_whole_customers_per_call_and_a_failed_call_ends_the_writing(standin, shop):
    client: StoreClient = shop
    balances = [LoyaltyBalance(str(2000 + n), 10 * n, "Gold") for n in range(30)]  # two metafields each
    standin.graphql_failures.extend([None, "throttle"])
    result = client.write_loyalty(balances, max_calls=5)
    ids = [b.customer_id for b in balances]
    assert (result.calls, result.written, result.failed) == (2, tuple(ids[:12]), tuple(ids[12:24]))
    assert isinstance(result.error, RateLimited) and result.refused == ()
    rest = client.write_loyalty(balances[12:], max_calls=1)  # 12 customers, then max_calls: 6 left untried
    assert (rest.calls, rest.written, rest.failed, rest.error) == (1, tuple(ids[12:24]), (), None)
    stored = standin.state(SHOP).writeback.metafields
    assert stored[("gid://shopify/Customer/2013", "loyalty", "points_balance")]["value"] == "130"
    assert len(stored) == 48 and standin.calls["metafieldsSet"] == 2


def test_ratings_set_and_removed(standin, shop):
    client: StoreClient = shop
    assert client.review_model == "ratings"
    client.publish_ratings([ProductRating("41", Decimal("4.5"), 2), ProductRating("42", Decimal(3), 1)])
    client.publish_ratings([ProductRating("41", Decimal(0), 0)])
    stored = standin.state(SHOP).writeback.metafields
    assert ("gid://shopify/Product/41", "reviews", "rating") not in stored
    assert stored[("gid://shopify/Product/42", "reviews", "rating_count")]["value"] == "1"
    assert standin.calls["metafieldsSet"] == 1 and standin.calls["metafieldsDelete"] == 1


def test_failed_write_error_keeps_no_frames(standin, shop):
    # push_balances holds result.error in a local: with the error's traceback, its frames (each reaching its caller
    # through f_back) and the holder's frame formed a cycle, and the failed call's connection stayed allocated until
    # the worker's rare full GC (bench/README.md, "bench/worker_jobs.py"). Without it, refcounting frees it all.
    standin.graphql_failures.append(503)

    def kept() -> StoreUnavailable:
        error = shop.write_loyalty([LoyaltyBalance("2001", 10, None)], max_calls=1).error
        assert isinstance(error, StoreUnavailable) and str(error) == "Admin API answered 503"
        return error

    assert freed_without_collector(kept)
