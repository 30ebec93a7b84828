"""The friend's discount code, created at the store by the job over real HTTP, against both stand-in stores:
once per friend (a return visit or the same e-mail gets the same code), and exactly one code at the store even
when the create call is retried after a timeout (the stand-ins apply the create, then answer too late)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.referrals.models import ReferralInvite
from app.referrals.tasks import create_friend_discount
from app.security import secret_box
from app.stores.service import add_store
from connectors.exceptions import StoreUnavailable
from connectors.shopify_discounts import NEW_CUSTOMERS_QUERY
from connectors.woocommerce_writeback import NEW_CUSTOMERS_META
from tests.helpers import SHOP
from tests.referrals.conftest import code_for_a_customer, woo_store
from tests.standins.shopify import StandInServer, StandInShopify, admin_schema


@pytest.fixture
def shopify(app, monkeypatch):
    admin_schema()
    with StandInServer(StandInShopify(api_key="key", api_secret="secret", slow_seconds=2.0)) as server:
        monkeypatch.setitem(app.config, "SHOPIFY_ADMIN_ORIGIN", server.origin())
        monkeypatch.setitem(app.config, "SHOPIFY_API_TIMEOUT_SECONDS", 0.8)
        yield server


def _invites() -> list[ReferralInvite]:
    db.session.expire_all()
    return list(db.session.scalars(select(ReferralInvite).order_by(ReferralInvite.id)))


def _one_friend_lands_twice_and_by_email(client, code: str) -> ReferralInvite:
    assert client.get(f"/ref/{code}").status_code == 200
    assert client.post(f"/ref/{code}").status_code == 200  # "Get my code"
    assert client.post(f"/ref/{code}").status_code == 200  # the cookie: the same friend, the same invite
    answer = client.post(f"/ref/{code}", data={"email": "Bob@Example.org"})
    assert answer.status_code == 200
    [invite] = _invites()
    assert invite.discount_code in answer.text and invite.friend_key
    # The same e-mail from another browser (no cookie) gets the same invite and code.
    other = client.application.test_client()
    assert other.post(f"/ref/{code}", data={"email": "bob@example.org"}).status_code == 200
    assert len(_invites()) == 1
    return invite


def test_shopify_friend_code_once_even_after_a_timeout(app, client, ctx, shopify):
    store = add_store(
        db.session, secret_box(), "shopify", SHOP, {"access_token": shopify.issue_tokens(SHOP)["access_token"]}
    )
    db.session.commit()
    invite = _one_friend_lands_twice_and_by_email(client, code_for_a_customer(store))
    # Requests: code lookup, segments list, segment create, then the create: applied, answered too late.
    shopify.graphql_failures.extend([None, None, None, "slow"])
    with pytest.raises(StoreUnavailable):
        create_friend_discount(invite.id)
    [invite] = _invites()
    assert (invite.discount_status, invite.attempts, invite.last_error) == ("pending", 1, "StoreUnavailable")
    discounts = shopify.state(SHOP).writeback.discounts
    assert list(discounts) == [invite.discount_code]  # it did happen at the store

    assert create_friend_discount(invite.id) == "existed"  # the RQ retry
    assert create_friend_discount(invite.id) == "skipped"  # a duplicate job
    [invite] = _invites()
    assert invite.discount_status == "created" and invite.discount_platform_id == discounts[invite.discount_code]["id"]
    assert len(discounts) == 1 and shopify.calls["discountCodeBasicCreate"] == 1
    recorded = discounts[invite.discount_code]["input"]
    assert recorded["usageLimit"] == 1 and recorded["appliesOncePerCustomer"] is True
    assert recorded["customerGets"]["value"] == {"percentage": 0.1}
    [segment] = shopify.state(SHOP).writeback.segments
    assert segment["query"] == NEW_CUSTOMERS_QUERY and recorded["context"] == {
        "customerSegments": {"add": [segment["id"]]}
    }


def test_woocommerce_friend_code_once_even_after_a_timeout(app, client, ctx, woo):
    store = woo_store(woo)
    invite = _one_friend_lands_twice_and_by_email(client, code_for_a_customer(store))
    woo.slow("POST", "/coupons", seconds=2.0)
    with pytest.raises(StoreUnavailable):
        create_friend_discount(invite.id)
    assert len(woo.writeback.coupons) == 1
    assert create_friend_discount(invite.id) == "existed"
    [coupon] = woo.writeback.coupons.values()
    [invite] = _invites()
    assert invite.discount_status == "created" and invite.discount_platform_id == str(coupon["id"])
    assert coupon["code"] == invite.discount_code.lower() and woo.writeback.calls["POST /coupons"] == 1
    assert (coupon["usage_limit"], coupon["usage_limit_per_user"], coupon["individual_use"]) == (1, 1, True)
    assert [(m["key"], m["value"]) for m in coupon["meta_data"]] == [(NEW_CUSTOMERS_META, "yes")]


def test_two_friends_get_two_codes(app, client, ctx, woo):
    store = woo_store(woo)
    code = code_for_a_customer(store)
    client.post(f"/ref/{code}")
    app.test_client().post(f"/ref/{code}")
    first, second = _invites()
    assert first.discount_code != second.discount_code and first.token != second.token
    assert create_friend_discount(first.id) == "created" and create_friend_discount(second.id) == "created"
    assert len(woo.writeback.coupons) == 2
    assert db.session.scalar(select(func.count(ReferralInvite.id))) == 2
    assert client.get("/ref/NOSUCHCD").status_code == 404


def test_woocommerce_friend_code_stored_otherwise_is_failed_with_the_field_named(app, client, ctx, woo):
    store = woo_store(woo)
    client.post(f"/ref/{code_for_a_customer(store)}")  # the friend asks for their code
    [invite] = _invites()
    woo.writeback.ignored = {"date_expires"}  # a plugin drops the expiry: the store answers 201 without it
    assert create_friend_discount(invite.id) == "failed"
    [invite] = _invites()
    assert invite.discount_status == "failed" and invite.last_error.startswith("StoredDifferently")
    assert "date_expires_gmt" in invite.last_error
