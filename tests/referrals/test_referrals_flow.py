"""The referral must-show, end to end: signed Shopify webhooks, the real inbox processing, the scheduler step with
an injected clock. A customer's link is used on a friend's first paid order; nothing is rewarded before the return
window; after it the referrer's reward exists exactly once (and the e-mail is queued once); a refund inside the
window voids it instead."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.messaging.models import Message
from app.referrals.service import ALPHABET, CODE_LENGTH, report
from app.referrals.tasks import tick
from tests.helpers import add_store, fixture_json, process_all
from tests.referrals.conftest import (
    DELIVERED,
    ELSEWHERE,
    WINDOW_END,
    customer_store,
    land,
    order_payload,
    post,
    referrals,
    referrer_with_code,
    reward_rows,
)


def _friend_orders(app, client, invite, **extra):
    payload = order_payload(
        6001, email="bob@example.org", customer_id=8001, address=ELSEWHERE, codes=(invite.discount_code,),
        delivered=DELIVERED, **extra,
    )  # fmt: skip
    post(client, "orders/paid", payload)
    process_all(app)
    [referral] = referrals()
    return referral


def test_code_is_short_readable_random_and_one_per_customer(app, client, ctx):
    add_store("shopify")
    ann, code = referrer_with_code(app, client)
    assert len(code.code) == CODE_LENGTH and set(code.code) <= set(ALPHABET)
    assert not set(code.code) & set("0O1IL") and str(ann.id) not in code.code
    from app.referrals.service import get_or_create_code

    assert get_or_create_code(db.session, customer_store(ann), ann).id == code.id


def test_friend_first_order_rewards_the_referrer_once_after_the_return_window(app, client, ctx):
    add_store("shopify")
    ann, code = referrer_with_code(app, client)
    invite = land(client, code.code)
    assert invite.discount_code.startswith("FRIEND-") and invite.ip_hash and invite.ua_hash

    referral = _friend_orders(app, client, invite)
    assert (referral.status, referral.reasons, referral.via) == ("pending", [], "discount_code")
    assert referral.referrer_customer_id == ann.id and referral.reward_due_at == WINDOW_END

    assert tick(app, now=WINDOW_END - timedelta(hours=1))["rewarded"] == 0
    assert reward_rows() == [] and referrals()[0].status == "pending"

    assert tick(app, now=WINDOW_END + timedelta(hours=1))["rewarded"] == 1
    assert tick(app, now=WINDOW_END + timedelta(days=2))["rewarded"] == 0  # exactly once
    [row] = reward_rows()
    [referral] = referrals()
    assert row.source_key == f"referral:{referral.id}:reward" and row.points == 500 and row.customer_id == ann.id
    assert referral.status == "rewarded" and referral.reward == {"type": "points", "points": 500}
    [mail] = db.session.scalars(select(Message).where(Message.template == "referral_reward_ready")).all()
    assert mail.to_address == "ann@example.com" and mail.context["reward"] == "500 points"
    assert set(mail.context) == {"first_name", "friend_name", "reward", "shop_url"}

    # A replay of the friend's order changes nothing.
    replay = order_payload(
        6001, email="bob@example.org", customer_id=8001, address=ELSEWHERE, codes=(invite.discount_code,),
        delivered=DELIVERED,
    )  # fmt: skip
    post(client, "orders/updated", replay)
    process_all(app)
    assert len(referrals()) == 1 and len(reward_rows()) == 1

    figures = report(db.session, customer_store(ann))
    assert figures["codes_shared"] == 1 and figures["landings"] == 1 and figures["rewarded"] == 1
    assert figures["revenue"] == {"USD": "100.00"}


def test_refund_inside_the_window_voids_the_referral(app, client, ctx):
    add_store("shopify")
    _, code = referrer_with_code(app, client)
    referral = _friend_orders(app, client, land(client, code.code))
    assert referral.status == "pending"
    refund = fixture_json("shopify", "refunds_create")
    refund.update(id=990001, order_id=6001, created_at=(DELIVERED + timedelta(days=3)).isoformat())
    refund["transactions"] = [{**refund["transactions"][0], "order_id": 6001, "amount": "40.00"}]
    post(client, "refunds/create", refund)
    process_all(app)
    [referral] = referrals()
    assert referral.status == "void" and referral.reasons == ["refunded"]
    assert tick(app, now=WINDOW_END + timedelta(days=1))["rewarded"] == 0
    assert reward_rows() == []
    assert report(db.session, customer_store(referral))["reasons"] == {"void": {"refunded": 1}}


def test_a_friend_with_an_earlier_order_is_not_new(app, client, ctx):
    add_store("shopify")
    _, code = referrer_with_code(app, client)
    invite = land(client, code.code)
    earlier = order_payload(6000, email="bob@example.org", customer_id=8001, address=ELSEWHERE)
    earlier.update(created_at="2026-10-01T10:00:00-05:00", updated_at="2026-10-01T10:00:00-05:00")
    post(client, "orders/paid", earlier)
    process_all(app)
    referral = _friend_orders(app, client, invite)
    assert (referral.status, referral.reasons) == ("void", ["not_first_order"])
    assert tick(app, now=WINDOW_END + timedelta(days=1))["rewarded"] == 0 and reward_rows() == []


def test_landing_token_in_a_note_attribute_attributes_an_order_without_the_code(app, client, ctx):
    from app.referrals.service import landing_token

    store = add_store("shopify")
    _, code = referrer_with_code(app, client)
    invite = land(client, code.code)
    token = landing_token(store, invite)
    payload = order_payload(6001, email="bob@example.org", customer_id=8001, address=ELSEWHERE)
    payload["note_attributes"] = [{"name": "_ppe_ref", "value": token}]
    post(client, "orders/paid", payload)
    forged = order_payload(6002, email="eve@example.org", customer_id=8002, address=ELSEWHERE)
    forged["note_attributes"] = [{"name": "_ppe_ref", "value": token[:-2] + "xx"}]
    post(client, "orders/paid", forged)
    process_all(app)
    [referral] = referrals()
    assert (referral.order_platform_id, referral.via, referral.status) == ("6001", "landing_token", "pending")
    assert referral.reward_due_at is None  # not fulfilled yet: no due date, never due
    assert tick(app, now=WINDOW_END + timedelta(days=60))["rewarded"] == 0
