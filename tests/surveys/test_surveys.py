"""The survey and its fork, end to end on both platforms: a delivered order (Shopify's carrier event; WooCommerce's
completion) schedules one survey, due days later; the scheduler queues it on the customer's channel; the links
are signed; a GET stores nothing; the first answer is kept; a detractor (Polish, Shopify) reaches the merchant and
opens one recovery case, whose coupon the store stand-in creates; a promoter (English, WooCommerce) is offered the
order's review page and their referral link and opens no case; the results API counts it all."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.messaging.models import Message
from app.recovery import RecoveryCase
from app.stores.models import Store
from app.stores.settings import update_store_settings
from app.support import SupportMessage
from app.surveys.models import SurveyRequest
from app.surveys.sending import send_due
from tests.helpers import add_store, dumps, fixture_json, process_all, woo_headers
from tests.reviews.conftest import carrier, fulfillment, order, post

SURVEY = {"enabled": True, "kind": "nps", "days_after_delivery": 3}
RECOVERY = {"enabled": True, "coupon": {"kind": "percentage", "value": "15", "expires_days": 30}}


def _enable(store: Store, **settings) -> None:
    store.contact_email = "owner@shop.example"
    update_store_settings(db.session, store, {"surveys": SURVEY, "recovery": RECOVERY, **settings})
    db.session.commit()


def _survey() -> SurveyRequest:
    db.session.expire_all()
    return db.session.scalars(select(SurveyRequest)).one()


def _links(message: Message) -> dict[int, str]:
    return {item["score"]: "/" + item["url"].split("/", 3)[3] for item in message.context["scores"]}


def test_shopify_detractor_in_polish_reaches_the_merchant_and_opens_one_recovery(app, client, ctx, mail_clock):
    _enable(add_store("shopify", currency="PLN"))
    post(app, client, "orders/create", order(9001, locale="pl"))
    post(app, client, "fulfillments/create", fulfillment(91, 9001, mail_clock.now))
    post(app, client, "fulfillment_events/create", carrier(91, 9001, mail_clock.now))
    post(app, client, "fulfillment_events/create", carrier(91, 9001, mail_clock.now))  # a duplicate: one survey
    survey = _survey()
    assert (survey.status, survey.kind, survey.due_at) == ("scheduled", "nps", mail_clock.now + timedelta(days=3))
    send_due(app)
    assert _survey().status == "scheduled"  # not due yet
    mail_clock.advance(3 * 86400)
    send_due(app)
    send_due(app)  # twice: one message
    [message] = db.session.scalars(select(Message).where(Message.template == "survey_request")).all()
    assert message.dedupe_key == f"survey:{survey.id}" and message.locale == "pl"
    links = _links(message)
    assert sorted(links) == list(range(11))
    page = client.get(links[3])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Jak bardzo prawdopodobne" in html
    assert re.search(r'value="3" checked', html) and _survey().score is None  # a GET stores nothing
    assert client.get(links[3][:-4] + "abcd").status_code == 400
    answered = client.post(links[3], data={"score": "3", "comment": "Paczka przyszła zgnieciona"})
    assert answered.status_code == 200 and "Przykro nam." in answered.get_data(as_text=True)
    again = client.post(links[10], data={"score": "10"})  # another link later: the first answer stands
    assert "Przykro nam." in again.get_data(as_text=True)
    survey = _survey()
    assert (survey.score, survey.group, survey.comment) == (3, "detractor", "Paczka przyszła zgnieciona")
    alerts = {m.kind: m for m in db.session.scalars(select(SupportMessage))}
    assert sorted(alerts) == ["help", "recovery"]  # the answer itself, and the case it opened (app/recovery)
    alert = alerts["help"]
    assert alert.ref == f"survey:{survey.id}" and "NPS 3/10" in alert.body and "zgnieciona" in alert.body
    [case] = db.session.scalars(select(RecoveryCase)).all()
    assert (case.reason, case.order_platform_id) == ("survey_detractor", "9001")
    results = client.get("/admin/api/v1/surveys/results", headers=_auth())
    assert results.status_code == 200
    body = results.json
    assert (body["sent"], body["answered"], body["response_rate"], body["nps"]) == (1, 1, "100.0", "-100.0")
    assert body["recoveries"] == 1 and body["comments"][0]["comment"] == "Paczka przyszła zgnieciona"


def _auth() -> dict[str, str]:
    from app.admin.auth import issue_admin_token

    return {"Authorization": "Bearer " + issue_admin_token(db.session.scalars(select(Store)).one())}


def test_woocommerce_promoter_in_english_is_offered_a_review_and_the_referral_link(app, client, ctx, mail_clock):
    _enable(add_store("woocommerce", currency="EUR"), surveys={**SURVEY, "kind": "csat", "days_after_delivery": 1})
    payload = fixture_json("woocommerce", "order")
    gmt = mail_clock.now.replace(tzinfo=None).isoformat(timespec="seconds")
    payload.update(status="completed", date_completed_gmt=gmt, date_modified_gmt=gmt, date_paid_gmt=gmt)
    body = dumps(payload)
    answer = client.post("/webhooks/woocommerce", data=body, headers=woo_headers("order.updated", body))
    assert answer.status_code == 200
    process_all(app)
    mail_clock.advance(86400)
    send_due(app)
    [message] = db.session.scalars(select(Message).where(Message.template == "survey_request")).all()
    links = _links(message)
    assert sorted(links) == [1, 2, 3, 4, 5]
    page = client.post(links[5], data={"score": "5"})
    html = page.get_data(as_text=True)
    assert "Thank you for your answer!" in html and "/r/order/" in html and "/ref/" in html
    assert _survey().group == "promoter"
    assert db.session.scalars(select(RecoveryCase)).all() == []
    assert db.session.scalars(select(SupportMessage)).all() == []
    assert client.get("/admin/api/v1/surveys/results", headers=_auth()).json["csat"] == "100.0"


def test_a_cancelled_order_is_not_surveyed_and_the_settings_are_validated(app, client, ctx, mail_clock):
    store = add_store("shopify")
    _enable(store)
    post(app, client, "orders/create", order(9002))
    post(app, client, "fulfillments/create", fulfillment(92, 9002, mail_clock.now))
    post(app, client, "fulfillment_events/create", carrier(92, 9002, mail_clock.now))
    cancelled = order(9002, updated_at="2027-02-21T10:00:00+00:00")
    cancelled.update(cancelled_at="2027-02-21T10:00:00+00:00", cancel_reason="customer")
    post(app, client, "orders/cancelled", cancelled)
    assert (_survey().status, _survey().reason) == ("cancelled", "cancelled")
    mail_clock.advance(5 * 86400)
    send_due(app)
    assert db.session.scalars(select(Message).where(Message.template == "survey_request")).all() == []
    refused = client.patch("/admin/api/v1/store/settings", json={"surveys": {"kind": "ces"}}, headers=_auth())
    assert refused.status_code == 422 and refused.json["field"] == "surveys.kind"
