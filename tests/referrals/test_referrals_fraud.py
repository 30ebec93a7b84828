"""Self-referral and abuse checks: flagged referrals wait for the merchant (admin API), approve -> rewarded once
after the window, reject -> never. The normalisers are checked on their own too."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.admin.auth import issue_admin_token
from app.extensions import db
from app.referrals.fraud import address_key, mailbox_key, phone_key
from app.referrals.service import get_or_create_code
from app.referrals.settings import update_settings
from app.referrals.tasks import tick
from tests.helpers import add_store, process_all
from tests.referrals.conftest import (
    DELIVERED,
    ELSEWHERE,
    HOME,
    WINDOW_END,
    land,
    order_payload,
    post,
    referrals,
    referrer_with_code,
    reward_rows,
)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Ann.Lee+shop@gmail.com", "annlee@googlemail.com", True),
        ("a.n.n@gmail.com", "ann@gmail.com", True),
        ("ann+x@example.com", "ANN@example.com", True),
        ("a.nn@example.com", "ann@example.com", False),  # dots matter outside Gmail
        ("ann@example.com", "ann@example.org", False),
    ],
)
def test_mailbox_key(a, b, same):
    assert (mailbox_key(a) == mailbox_key(b)) is same


def test_address_and_phone_keys():
    assert address_key(HOME) == address_key(
        {"address1": "12, baker st.", "address2": "FLAT 3", "zip": "nw1  6xe", "country_code": "gb"}
    )
    assert address_key(HOME) != address_key({**HOME, "address1": "14 Baker Street"})
    assert address_key({"address1": None, "zip": "1"}) is None
    assert phone_key("+44 7700 900123") == phone_key("07700-900-123") == phone_key("0044 (7700) 900123")
    assert phone_key("555-SHIP") is None and phone_key("+44 7700 900124") != phone_key("+44 7700 900123")


def _self_referral(app, client):
    """Ann refers 'a friend' who is Ann: her own address, a plus-tag variant of her own e-mail."""
    ann, code = referrer_with_code(app, client, email="ann.lee@gmail.com", address=HOME)
    invite = land(client, code.code)
    disguised = {**HOME, "address1": "12 BAKER ST", "address2": "flat 3.", "phone": "07700 900123"}
    payload = order_payload(
        6001, email="annlee+friends@googlemail.com", customer_id=8001, address=disguised,
        codes=(invite.discount_code,), delivered=DELIVERED,
    )  # fmt: skip
    post(client, "orders/paid", payload)
    process_all(app)
    [referral] = referrals()
    return referral


def _admin(client, store, action: str, referral_id: int):
    headers = {"Authorization": f"Bearer {issue_admin_token(store)}"}
    return client.post(f"/admin/api/v1/referrals/{referral_id}/{action}", headers=headers)


def test_self_referral_is_flagged_and_approval_rewards_once(app, client, ctx):
    store = add_store("shopify")
    referral = _self_referral(app, client)
    assert referral.status == "flagged"
    assert {"same_email", "same_address", "same_phone"} <= set(referral.reasons)
    assert tick(app, now=WINDOW_END + timedelta(days=1))["rewarded"] == 0 and reward_rows() == []

    token = issue_admin_token(store)
    listed = client.get("/admin/api/v1/referrals?status=flagged", headers={"Authorization": f"Bearer {token}"})
    assert [r["id"] for r in listed.json["referrals"]] == [referral.id]
    assert "same_address" in listed.json["referrals"][0]["reasons"]  # visible to the merchant

    answer = _admin(client, store, "approve", referral.id)
    assert answer.status_code == 200 and answer.json["status"] == "pending"
    assert answer.json["decided_by"] == "merchant:admin_api"
    assert _admin(client, store, "approve", referral.id).status_code == 409  # decided once
    assert tick(app, now=WINDOW_END + timedelta(days=1))["rewarded"] == 1
    assert tick(app, now=WINDOW_END + timedelta(days=2))["rewarded"] == 0
    assert len(reward_rows()) == 1 and referrals()[0].status == "rewarded"


def test_rejected_referral_is_never_rewarded(app, client, ctx):
    store = add_store("shopify")
    referral = _self_referral(app, client)
    assert _admin(client, store, "reject", referral.id).json["status"] == "rejected"
    assert tick(app, now=WINDOW_END + timedelta(days=30))["rewarded"] == 0
    assert reward_rows() == [] and referrals()[0].status == "rejected"
    report = client.get(
        "/admin/api/v1/referrals/report", headers={"Authorization": f"Bearer {issue_admin_token(store)}"}
    )
    assert report.json["rejected"] == 1 and report.json["reasons"]["rejected"]["same_address"] == 1


def test_other_stores_cannot_decide(app, client, ctx):
    add_store("shopify")
    other = add_store("shopify", "other-shop.myshopify.com")
    referral = _self_referral(app, client)
    assert _admin(client, other, "approve", referral.id).status_code == 404
    assert referrals()[0].status == "flagged"


def test_a_flagged_referral_refunded_before_a_decision_is_void(app, client, ctx):
    from tests.helpers import fixture_json

    add_store("shopify")
    _self_referral(app, client)
    refund = fixture_json("shopify", "refunds_create")
    refund.update(id=990002, order_id=6001)
    refund["transactions"] = [{**refund["transactions"][0], "order_id": 6001, "amount": "5.00"}]
    post(client, "refunds/create", refund)
    process_all(app)
    assert referrals()[0].status == "void" and referrals()[0].reasons[-1] == "refunded"


def test_same_device_and_velocity(app, client, ctx):
    store = add_store("shopify")
    update_settings(db.session, store, {"velocity": {"max": 1, "hours": 24}})
    db.session.commit()
    ann, code = referrer_with_code(app, client)
    from app.referrals.service import client_hash

    get_or_create_code(db.session, store, ann, ip_hash=client_hash("127.0.0.1"), ua_hash=client_hash("AnnPhone/2"))
    db.session.commit()
    mine = land(client, code.code, headers={"User-Agent": "AnnPhone/2"})  # Ann clicks her own link
    theirs = land(client.application.test_client(), code.code, headers={"User-Agent": "Other/1"})
    for order_id, customer_id, invite in ((6001, 8001, theirs), (6002, 8002, mine)):
        payload = order_payload(
            order_id, email=f"f{customer_id}@example.org", customer_id=customer_id, address=ELSEWHERE,
            codes=(invite.discount_code,),
        )  # fmt: skip
        post(client, "orders/paid", payload)
        process_all(app)
    first, second = referrals()
    assert (first.status, first.reasons) == ("pending", [])
    assert second.status == "flagged" and set(second.reasons) == {"same_device", "velocity"}


def test_a_flagged_referral_alerts_its_own_recipients(app, client, ctx):
    """The merchant hears of a flagged referral by e-mail: the alert recipients of flagged referrals (the store
    settings' "alerts" section), not the low-rating list; the fraud checks are named, the shoppers are not."""
    from sqlalchemy import select

    from app.messaging.models import Message
    from app.stores.settings import update_store_settings
    from app.support.models import SupportMessage

    store = add_store("shopify")
    store.contact_email = "shop@shop.example"
    update_store_settings(
        db.session, store, {"alerts": {"flagged_referral": ["fraud@shop.example"], "low_rating": ["qa@shop.example"]}}
    )
    db.session.commit()
    referral = _self_referral(app, client)
    db.session.expire_all()
    [alert] = db.session.scalars(select(SupportMessage).where(SupportMessage.kind == "flagged_referral")).all()
    assert alert.store_id == store.id and alert.ref == f"referral:{referral.id}" and "same_address" in alert.body
    mails = db.session.scalars(select(Message).where(Message.template == "merchant_flagged_referral")).all()
    assert [m.to_address for m in mails] == ["fraud@shop.example"]
    assert "same_address" in mails[0].context["reasons"] and "ann" not in str(mails[0].context).lower()
