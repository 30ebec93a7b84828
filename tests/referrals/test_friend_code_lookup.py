"""GET /api/v1/referrals/friend-code: the WordPress plugin's read-only lookup of the friend's discount code by the
landing token the "Shop now" link carries (?ppe_ref=), so the cart applies it without the friend typing it."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.referrals.models import ReferralInvite
from app.referrals.service import landing_token
from app.referrals.tasks import create_friend_discount
from app.security import secret_box
from app.stores.storefront_keys import ensure_keys
from tests.helpers import add_store
from tests.referrals.conftest import code_for_a_customer, land, woo_store

PATH = "/api/v1/referrals/friend-code"


def test_the_code_once_the_store_holds_it_and_nothing_else(app, client, ctx, woo):
    store = woo_store(woo)
    key = ensure_keys(db.session, secret_box(), store).public_key
    db.session.commit()
    invite = land(client, code_for_a_customer(store))
    token = landing_token(store, invite)
    headers = {"X-PPE-Store": key}
    assert client.get(PATH, query_string={"token": token}, headers=headers).status_code == 404  # not at the store yet
    assert create_friend_discount(invite.id) == "created"
    db.session.expire_all()  # the job committed in its own session; the test's still holds the pending row
    answer = client.get(PATH, query_string={"token": token}, headers=headers)
    assert answer.status_code == 200 and answer.json == {"code": invite.discount_code}
    assert len(woo.writeback.coupons) == 1  # the lookups created nothing
    assert db.session.scalar(select(func.count(ReferralInvite.id))) == 1
    for bad in ("", "x" * 300, token[:-2] + "zz", "not.a.token"):
        assert client.get(PATH, query_string={"token": bad}, headers=headers).status_code == 404
    other = add_store("shopify")  # another store's key never reads this store's invite
    other_key = ensure_keys(db.session, secret_box(), other).public_key
    db.session.commit()
    assert client.get(PATH, query_string={"token": token}, headers={"X-PPE-Store": other_key}).status_code == 404
