"""The Thank-you page's one-question survey (GET|POST /orders/<id>/survey) with the extension's session token:
order-scoped, stored once per order by the survey's unique key, feeding the same fork as the e-mail survey."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.recovery import RecoveryCase
from app.stores.models import Store
from app.stores.settings import update_store_settings
from app.support import SupportMessage
from app.surveys import storefront as survey_storefront
from app.surveys.models import SurveyRequest
from app.surveys.sending import send_due
from tests.extensions.seed import BOB, CLIENT_ID, seed
from tests.extensions.test_extension_api import bearer, documented, token

RECOVERY = {"enabled": True, "coupon": {"kind": "percentage", "value": "15", "expires_days": 30}}


@pytest.fixture
def seeded(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "SHOPIFY_API_KEY", CLIENT_ID)
    return seed()


def _turn_on(seeded, kind: str = "nps", **more) -> Store:
    store = db.session.get(Store, seeded.store_id)
    store.contact_email = "owner@shop.example"
    update_store_settings(db.session, store, {"surveys": {"enabled": True, "kind": kind}, **more})
    db.session.commit()
    return store


def _rows() -> list[SurveyRequest]:
    db.session.expire_all()
    return list(db.session.scalars(select(SurveyRequest).order_by(SurveyRequest.id)))


def test_no_question_while_the_store_has_no_survey(seeded, client):
    alice = bearer(token())
    answer = client.get(f"/api/v1/orders/{seeded.pending}/survey", headers=alice)
    assert answer.status_code == 200 and answer.json["enabled"] is False and answer.json["kind"] is None
    refused = client.post(f"/api/v1/orders/{seeded.pending}/survey", json={"score": 9}, headers=alice)
    assert refused.status_code == 404 and _rows() == []


def test_promoter_answers_once_and_gets_the_review_and_referral_links(seeded, client, app):
    _turn_on(seeded)
    alice = bearer(token())
    url = f"/api/v1/orders/{seeded.pending}/survey"
    question = client.get(url, headers=alice).json
    assert question == {
        "enabled": True,
        "kind": "nps",
        "low": 0,
        "high": 10,
        "answered": False,
        "score": None,
        "group": None,
    }
    first = client.post(url, json={"score": 9}, headers=alice)
    assert first.status_code == 200, first.json
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert (first.json["stored"], first.json["score"], first.json["group"]) == (True, 9, "promoter")
    assert "/r/order/" in first.json["review_url"] and "/ref/" in first.json["referral_url"]
    again = client.post(url, json={"score": 2}, headers=alice)  # a second answer (another tab): the first stands
    assert (again.json["stored"], again.json["score"], again.json["group"]) == (False, 9, "promoter")
    [row] = _rows()
    assert (row.order_platform_id, row.status, row.score, row.customer_id) == (
        seeded.pending,
        "answered",
        9,
        seeded.alice_id,
    )
    assert row.sent_at is not None and row.answered_at is not None
    assert client.get(url, headers=alice).json["answered"] is True
    assert db.session.scalar(select(func.count(SupportMessage.id))) == 0  # a promoter opens nothing


def test_detractor_takes_the_same_fork_as_the_email_survey(seeded, client):
    _turn_on(seeded, kind="csat", recovery=RECOVERY)
    url = f"/api/v1/orders/{seeded.pending}/survey"
    assert client.post(url, json={"score": 6}, headers=bearer(token())).status_code == 422  # CSAT is 1-5
    answer = client.post(url, json={"score": 1}, headers=bearer(token()))
    assert answer.status_code == 200 and answer.json["group"] == "detractor"
    assert answer.json["review_url"] is None and answer.json["referral_url"] is None
    [row] = _rows()
    alerts = sorted(m.kind for m in db.session.scalars(select(SupportMessage)))
    assert alerts == ["help", "recovery"]  # the merchant hears at once, and the recovery case opened
    [case] = db.session.scalars(select(RecoveryCase)).all()
    assert (case.order_platform_id, case.reason) == (seeded.pending, "survey_detractor")


def test_a_customer_answers_only_their_own_orders(seeded, client):
    _turn_on(seeded)
    alice = bearer(token())
    for method in ("get", "post"):
        theirs = getattr(client, method)(f"/api/v1/orders/{seeded.bobs}/survey", json={"score": 0}, headers=alice)
        missing = getattr(client, method)("/api/v1/orders/999999/survey", json={"score": 0}, headers=alice)
        assert theirs.status_code == missing.status_code == 404 and theirs.json == missing.json
    guest = client.post(
        f"/api/v1/orders/{seeded.pending}/survey", json={"score": 0}, headers=bearer(token(documented(sub=None)))
    )
    assert guest.status_code == 401
    assert _rows() == []
    bob = bearer(token(documented(sub=f"gid://shopify/Customer/{BOB}")))
    assert client.post(f"/api/v1/orders/{seeded.bobs}/survey", json={"score": 10}, headers=bob).status_code == 200


def test_the_email_survey_already_scheduled_is_answered_and_not_sent(seeded, client, app, mail_clock):
    store = _turn_on(seeded)
    db.session.add(
        SurveyRequest(
            store_id=store.id,
            order_platform_id=seeded.delivered,
            customer_id=seeded.alice_id,
            kind="csat",  # scheduled before the store switched to NPS: the row's scale is the question
            status="scheduled",
            due_at=mail_clock.now - timedelta(hours=1),
        )
    )
    db.session.commit()
    url = f"/api/v1/orders/{seeded.delivered}/survey"
    assert client.get(url, headers=bearer(token())).json["kind"] == "csat"
    assert client.post(url, json={"score": 5}, headers=bearer(token())).json["group"] == "promoter"
    assert send_due(app) == {}  # answered: no e-mail asks again
    [row] = _rows()
    assert (row.status, row.score) == ("answered", 5)


def test_a_twin_row_made_meanwhile_is_found_not_duplicated(seeded, client, monkeypatch):
    """The e-mail path (or a twin request) inserts the order's row between our read and our insert: the unique
    key refuses our insert, the answer goes to the existing row."""
    store = _turn_on(seeded)
    real = survey_storefront._row
    calls = []

    def stale_first_read(store_, order):
        calls.append(order.platform_id)
        if len(calls) == 1:
            db.session.add(
                SurveyRequest(
                    store_id=store.id,
                    order_platform_id=order.platform_id,
                    customer_id=seeded.alice_id,
                    kind="nps",
                    status="scheduled",
                )  # fmt: skip
            )
            db.session.flush()
            return None
        return real(store_, order)

    monkeypatch.setattr(survey_storefront, "_row", stale_first_read)
    answer = client.post(f"/api/v1/orders/{seeded.pending}/survey", json={"score": 10}, headers=bearer(token()))
    assert answer.status_code == 200 and answer.json["stored"] is True
    [row] = _rows()
    assert (row.status, row.score) == ("answered", 10)
