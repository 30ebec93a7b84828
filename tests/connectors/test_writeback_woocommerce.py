"""WooCommerce write-backs over real HTTP: the `woocommerce` package (OAuth1-signed over plain HTTP) against
the stand-in store."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.exceptions import RateLimited, StoredDifferently, StoreUnavailable
from connectors.woocommerce_writeback import (
    BATCH_LIMIT,
    LOYALTY_BALANCE_META,
    LOYALTY_TIER_META,
    NEW_CUSTOMERS_META,
    WooRefused,
    WooWriteback,
)
from connectors.writeback import DiscountSpec, LoyaltyBalance, ReviewToPublish, StoreClient
from tests.connectors.freed import freed_without_collector
from tests.standins.woocommerce import WooStandin


@pytest.fixture
def site():
    standin = WooStandin().start()
    yield standin
    standin.stop()


@pytest.fixture
def woo(site):
    key, secret = site.add_key()
    return WooWriteback(site.url, key, secret, timeout=1.0)


def reward(code: str = "LOYAL-W1", **overrides) -> DiscountSpec:
    fields = dict(
        code=code,
        title="Loyalty reward",
        kind="fixed_amount",
        value=Decimal("5.00"),
        currency="EUR",
        customer_email="ann@example.com",
        usage_limit=1,
        once_per_customer=True,
        minimum_subtotal=Decimal("20.00"),
        ends_at=datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
    )
    return DiscountSpec(**{**fields, **overrides})


def test_coupon_limited_to_one_email(site, woo):
    site.timezone_string = "Europe/Berlin"  # the store shows dates in its zone; the expiry is the same moment
    result = woo.create_discount(reward())
    assert result.created and result.code == "LOYAL-W1"
    [coupon] = site.writeback.coupons.values()
    assert str(coupon["id"]) == result.platform_id
    assert coupon["email_restrictions"] == ["ann@example.com"]
    assert (coupon["discount_type"], coupon["amount"], coupon["free_shipping"]) == ("fixed_cart", "5.00", False)
    assert (coupon["usage_limit"], coupon["usage_limit_per_user"], coupon["individual_use"]) == (1, 1, True)
    assert coupon["minimum_amount"] == "20.00" and coupon["date_expires_gmt"] == "2026-12-31T23:00:00"
    assert coupon["date_expires"] == "2027-01-01T00:00:00" and coupon["meta_data"] == []


def test_percentage_referral_and_free_shipping(site, woo):
    referral = DiscountSpec(
        code="FRIEND-W", title="Friend", kind="percentage", value=Decimal("12.5"), usage_limit=None,
        once_per_customer=True, new_customers_only=True,
    )  # fmt: skip
    woo.create_discount(referral)
    woo.create_discount(DiscountSpec(code="SHIP-W", title="Ship", kind="free_shipping", customer_email="b@example.com"))
    by_code = {c["code"]: c for c in site.writeback.coupons.values()}
    assert (by_code["friend-w"]["discount_type"], by_code["friend-w"]["amount"]) == ("percent", "12.50")
    assert by_code["friend-w"]["usage_limit"] is None and by_code["friend-w"]["email_restrictions"] == []
    assert [(m["key"], m["value"]) for m in by_code["friend-w"]["meta_data"]] == [(NEW_CUSTOMERS_META, "yes")]
    assert by_code["friend-w"]["date_expires_gmt"] is None
    assert by_code["ship-w"]["free_shipping"] is True and by_code["ship-w"]["amount"] == "0.00"


def test_existing_coupon_is_found_not_created(site, woo):
    first = woo.create_discount(reward())
    again = woo.create_discount(reward(code="loyal-w1"))  # codes are case-insensitive
    assert (again.created, again.platform_id) == (False, first.platform_id)
    assert len(site.writeback.coupons) == 1 and site.writeback.calls["POST /coupons"] == 1


def test_duplicate_code_answer_is_read_back(site, woo):
    first = woo.create_discount(reward())
    original = woo.find_coupon
    lookups: list[str] = []

    def lagging(code: str):
        lookups.append(code)
        return None if len(lookups) == 1 else original(code)  # the first lookup misses (a concurrent create)

    woo.find_coupon = lagging
    again = woo.create_discount(reward())
    assert (again.created, again.platform_id) == (False, first.platform_id)
    assert site.writeback.calls["POST /coupons"] == 2 and len(site.writeback.coupons) == 1 and len(lookups) == 2


def test_lost_answer_then_retry_makes_exactly_one_coupon(site, woo):
    site.slow("POST", "/coupons", seconds=2.5)
    with pytest.raises(StoreUnavailable):
        woo.create_discount(reward())
    assert len(site.writeback.coupons) == 1
    retried = woo.create_discount(reward())
    assert retried.created is False and len(site.writeback.coupons) == 1


def test_throttled_and_refused_coupons(site, woo):
    site.fail("POST", "/coupons", 429, times=1, **{"Retry-After": "7"})
    with pytest.raises(RateLimited) as caught:
        woo.create_discount(reward())
    assert caught.value.retry_after == 7 and site.writeback.coupons == {}
    assert woo.create_discount(reward()).created
    site.fail("POST", "/coupons", 400, times=1)
    with pytest.raises(WooRefused) as refused:
        woo.create_discount(reward(code="OTHER"))
    assert refused.value.code == "injected" and refused.value.status == 400


def test_customer_meta_batches_of_100(site, woo):
    for n in range(1, 251):
        site.writeback.add_customer(n, f"c{n}@example.com")
    updates = [(str(n), {LOYALTY_BALANCE_META: str(n * 10), LOYALTY_TIER_META: "Gold"}) for n in range(1, 251)]
    answers = woo.update_customer_meta(updates)
    assert len(answers) == 250 and site.writeback.calls["POST /customers/batch"] == 3 == -(-250 // BATCH_LIMIT)
    meta = {m["key"]: m["value"] for m in site.writeback.customers[137]["meta_data"]}
    assert meta == {LOYALTY_BALANCE_META: "1370", LOYALTY_TIER_META: "Gold"}
    woo.update_customer_meta([("137", {LOYALTY_BALANCE_META: "5"}), ("999", {LOYALTY_BALANCE_META: "1"})])
    assert len(site.writeback.customers[137]["meta_data"]) == 2
    assert {m["key"]: m["value"] for m in site.writeback.customers[137]["meta_data"]}[LOYALTY_BALANCE_META] == "5"


def test_review_created_then_duplicate_returns_the_existing_one(site, woo):
    bought = {"status": "completed", "billing": {"email": "ann@example.com"}, "line_items": [{"product_id": 22}]}
    site.orders.append(bought)  # WooCommerce marks a review verified when the reviewer bought the product
    first = woo.publish_review(ReviewToPublish("22", "Lovely mug.", "Ann", "ann@example.com", 5, True))
    assert first.created and first.platform_id
    stored = site.writeback.reviews[int(first.platform_id)]
    assert (stored["product_id"], stored["rating"], stored["verified"]) == (22, 5, True)
    again = woo.publish_review(ReviewToPublish("22", "Lovely mug.", "Ann", "ann@example.com", 5, True))
    assert (again.created, again.platform_id) == (False, first.platform_id)
    assert len(site.writeback.reviews) == 1 and site.writeback.calls["POST /products/reviews"] == 2
    other = woo.publish_review(ReviewToPublish("23", "Lovely mug.", "Ann", "ann@example.com", 4, True))
    assert other.created and len(site.writeback.reviews) == 2
    assert site.writeback.reviews[int(other.platform_id)]["verified"] is False  # not bought: ours is not sent


def test_review_store_errors(site, woo):
    site.fail("POST", "/products/reviews", 503, times=1)
    with pytest.raises(StoreUnavailable):
        woo.publish_review(ReviewToPublish("22", "Fine.", "Bo", "bo@example.com", 3, False))
    with pytest.raises(ValueError):
        woo.publish_review(ReviewToPublish("22", "Fine.", "Bo", "bo@example.com", 6, False))
    assert site.writeback.reviews == {}


def test_loyalty_batches_of_100_with_refusals_reported(site, woo):
    client: StoreClient = woo
    for n in range(1, 150):
        site.writeback.add_customer(n, f"c{n}@example.com")
    balances = [LoyaltyBalance(str(n), n, None if n % 2 else "Gold") for n in range(1, 151)]  # 150 is unknown
    result = client.write_loyalty(balances, max_calls=5)
    assert (result.calls, len(result.written), result.refused, result.error) == (2, 149, ("150",), None)
    assert site.writeback.calls["POST /customers/batch"] == 2
    meta = {m["key"]: m["value"] for m in site.writeback.customers[3]["meta_data"]}
    assert meta == {LOYALTY_BALANCE_META: "3", LOYALTY_TIER_META: ""}
    site.fail("POST", "/customers/batch", 503, times=1)
    failed = client.write_loyalty(balances, max_calls=1)
    assert (failed.calls, failed.written, failed.failed) == (1, (), tuple(str(n) for n in range(1, 101)))
    assert isinstance(failed.error, StoreUnavailable)


def _post_coupon(woo, body: dict) -> dict:
    return woo._call("post", "coupons", "test", data=body).json()


def test_the_store_drops_date_expires_gmt_and_reads_naive_dates_in_its_zone(site, woo):
    """The real store's behaviour (WooCommerce 7.8): date_expires_gmt has no setter; a date without an offset is
    the site's local time; dates keep whole seconds."""
    site.timezone_string = "Europe/Berlin"
    base = {"discount_type": "fixed_cart", "amount": "5"}
    dropped = _post_coupon(woo, {**base, "code": "A", "date_expires_gmt": "2026-12-31T23:00:00"})
    assert (dropped["date_expires"], dropped["date_expires_gmt"]) == (None, None)
    naive = _post_coupon(woo, {**base, "code": "B", "date_expires": "2026-12-31T23:00:00"})
    assert naive["date_expires_gmt"] == "2026-12-31T22:00:00"
    exact = _post_coupon(woo, {**base, "code": "C", "date_expires": "2026-12-31T23:00:00+00:00", "bogus": 1})
    assert exact["date_expires_gmt"] == "2026-12-31T23:00:00" and "bogus" not in exact


def test_expiry_to_the_second_is_not_a_difference(site, woo):
    woo.create_discount(reward(ends_at=datetime(2026, 12, 31, 23, 0, 0, 750_000, tzinfo=UTC)))
    [coupon] = site.writeback.coupons.values()
    assert coupon["date_expires_gmt"] == "2026-12-31T23:00:00"


def test_a_field_the_store_does_not_keep_is_an_error_naming_it(site, woo):
    site.writeback.ignored = {"email_restrictions"}  # a plugin filtering coupons before they are saved
    with pytest.raises(StoredDifferently) as caught:
        woo.create_discount(reward())
    assert set(caught.value.fields) == {"email_restrictions"}
    assert caught.value.fields["email_restrictions"] == (["ann@example.com"], [])
    assert "email_restrictions: sent ['ann@example.com'], stored []" in str(caught.value)


def test_our_coupon_found_without_its_expiry_is_updated_then_checked(site, woo):
    old = {"code": "LOYAL-W1", "discount_type": "fixed_cart", "amount": "5.00", "usage_limit": 1,
           "usage_limit_per_user": 1, "individual_use": True, "email_restrictions": ["ann@example.com"],
           "minimum_amount": "20.00", "date_expires_gmt": "2026-12-31T23:00:00"}  # fmt: skip
    made = _post_coupon(woo, old)  # what an earlier version sent: the store kept no expiry
    result = woo.create_discount(reward())
    assert (result.created, result.platform_id) == (False, str(made["id"]))
    assert site.writeback.coupons[made["id"]]["date_expires_gmt"] == "2026-12-31T23:00:00"
    assert site.writeback.calls["PUT /coupons/"] == 1 and len(site.writeback.coupons) == 1
    woo.create_discount(reward())  # found as sent now: no second update
    assert site.writeback.calls["PUT /coupons/"] == 1
    site.writeback.ignored = {"date_expires"}
    site.writeback.edit_coupon(made["id"], date_expires=None)  # the merchant removes the expiry, and a plugin
    # keeps it removed: the update is answered 200 without it
    with pytest.raises(StoredDifferently) as caught:
        woo.create_discount(reward())
    assert list(caught.value.fields) == ["date_expires_gmt"]


def test_loyalty_meta_the_store_does_not_keep_is_refused_with_its_reason(site, woo):
    for n in (1, 2):
        site.writeback.add_customer(n, f"c{n}@example.com")
    site.writeback.ignored = {LOYALTY_TIER_META}
    result = woo.write_loyalty([LoyaltyBalance("1", 10, "Gold"), LoyaltyBalance("2", 20, None)], max_calls=1)
    assert (result.written, result.refused) == (("2",), ("1",))  # no tier: "" sent, absent at the store
    assert LOYALTY_TIER_META in result.reasons["1"] and "'Gold'" in result.reasons["1"]


def test_a_review_held_by_the_store_is_an_error(site, woo):
    site.writeback.ignored = {"status"}  # comment moderation holds it
    with pytest.raises(StoredDifferently) as caught:
        woo.publish_review(ReviewToPublish("22", "Fine.", "Bo", "bo@example.com", 3, False))
    assert caught.value.fields == {"status": ("approved", "hold")}


def test_failed_write_error_keeps_no_frames(site, woo):
    # As the Shopify test of the same name: the error a caller keeps is freed when the caller returns.
    site.fail("POST", "/customers/batch", 503, times=1)

    def kept() -> StoreUnavailable:
        error = woo.write_loyalty([LoyaltyBalance("1", 10, None)], max_calls=1).error
        assert isinstance(error, StoreUnavailable)
        return error

    assert freed_without_collector(kept)
