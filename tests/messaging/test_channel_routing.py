"""send_to_customer: channel choice by preference and consent, quiet hours in the store's zone, the daily cap."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.messaging.api import EMAIL, MARKETING, SMS, SUPPRESSED, WHATSAPP, send_to_customer
from app.messaging.contacts import record_opt_out
from app.messaging.models import DailyCapSlot, Message
from app.records.models import Customer
from tests.helpers import add_store
from tests.messaging.conftest import review_context

PHONE = "+48601234567"


@pytest.fixture
def providers(app):
    saved = {k: app.config.get(k) for k in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM")}
    saved |= {k: app.config.get(k) for k in ("WHATSAPP_ACCESS_TOKEN", "WHATSAPP_PHONE_NUMBER_ID")}
    app.config.update(
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_AUTH_TOKEN="tok",
        TWILIO_FROM="+15005550006",
        WHATSAPP_ACCESS_TOKEN="wa-token",
        WHATSAPP_PHONE_NUMBER_ID="1234567890",
    )
    yield
    app.config.update(saved)


def customer(store, **fields) -> Customer:
    values = {"email": "ola@example.com", "email_key": "ola@example.com", "first_name": "Ola", "locale": "pl"}
    values.update(fields)
    row = Customer(store_id=store.id, **values)
    db.session.add(row)
    db.session.commit()
    return row


def send(store, person, key="k1", **kwargs) -> Message:
    values = {"template": "review_request", "context": review_context(), "dedupe_key": key}
    values.update(kwargs)
    message = send_to_customer(db.session, store, customer_id=person.id, **values)
    db.session.commit()
    return message


def test_email_by_default_and_idempotent(app, ctx):
    store = add_store()
    person = customer(store, phone_e164=PHONE, sms_consent=True)
    first = send(store, person)
    assert (first.channel, first.status, first.to_address, first.to_phone) == (EMAIL, "queued", "ola@example.com", None)
    assert send(store, person).id == first.id
    assert db.session.scalar(select(db.func.count(Message.id))) == 1


def test_store_order_preference_and_consent(app, ctx, providers):
    store = add_store()
    store.settings = {"channels": {"order": ["whatsapp", "sms", "email"]}}
    db.session.commit()
    sms_only = customer(store, phone_e164=PHONE)  # no WhatsApp opt-in: SMS (transactional needs no False)
    assert send(store, sms_only, "a").channel == SMS
    assert send(store, sms_only, "a2").to_phone == PHONE
    wa = customer(
        store, email="w@example.com", email_key="w@example.com", phone_e164="+48601234568", whatsapp_consent=True
    )
    assert send(store, wa, "b").channel == WHATSAPP
    prefers_mail = customer(
        store, email="p@example.com", email_key="p@example.com", phone_e164="+48601234569", preferred_channel="email"
    )
    assert send(store, prefers_mail, "c").channel == EMAIL
    # marketing SMS needs sms_marketing_consent; without it, e-mail marketing needs accepts_marketing
    assert send(store, sms_only, "d", purpose=MARKETING).status == SUPPRESSED
    record_opt_out(db.session, store.id, SMS, PHONE, "stop", datetime.now(UTC))
    db.session.commit()
    assert send(store, sms_only, "e").channel == EMAIL  # STOP: falls to the next channel


def test_quiet_hours_hold_marketing_and_non_urgent_in_store_zone(app, ctx):
    store = add_store()
    store.timezone = "Europe/Warsaw"
    db.session.commit()
    person = customer(store, accepts_marketing=True)
    late = datetime(2027, 1, 10, 21, 30, tzinfo=UTC)  # 22:30 in Warsaw (UTC+1): inside 21:00-08:00
    held = send(store, person, "m", purpose=MARKETING, send_after=late)
    assert held.next_attempt_at == datetime(2027, 1, 11, 7, 0, tzinfo=UTC)  # 08:00 Warsaw
    assert send(store, person, "n", send_after=late, urgent=False).next_attempt_at == held.next_attempt_at
    assert send(store, person, "u", send_after=late).next_attempt_at == late  # urgent transactional: now
    day = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
    assert send(store, person, "d", purpose=MARKETING, send_after=day).next_attempt_at == day


def test_daily_cap_suppresses_over_the_cap_with_reason(app, ctx):
    store = add_store()
    store.settings = {"channels": {"daily_cap": 2}}
    db.session.commit()
    person = customer(store)
    noon = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
    rows = [send(store, person, f"c{i}", capped=True, send_after=noon) for i in range(3)]
    assert [r.status for r in rows] == ["queued", "queued", SUPPRESSED]
    assert rows[2].reason == "daily_cap"
    assert send(store, person, "c0", capped=True).id == rows[0].id  # a replay takes no new slot
    assert db.session.scalar(select(db.func.count(DailyCapSlot.id))) == 2
    next_day = datetime(2027, 1, 11, 12, 0, tzinfo=UTC)
    assert send(store, person, "c3", capped=True, send_after=next_day).status == "queued"
    assert send(store, person, "free").status == "queued"  # uncapped messages do not count


def test_erasure_clears_the_phone_and_channel_consent_but_keeps_the_opt_out(app, ctx, providers):
    from app.compliance.erasure import erase_customers
    from app.messaging.contacts import phone_opted_out

    store = add_store()
    store.settings = {"channels": {"order": ["sms", "email"]}}
    db.session.commit()
    person = customer(store, phone_e164=PHONE, sms_consent=True, preferred_channel="sms")
    message = send(store, person)
    record_opt_out(db.session, store.id, SMS, PHONE, "stop", datetime.now(UTC))
    erase_customers(db.session, store, [person.id])
    db.session.commit()
    db.session.expire_all()
    row = db.session.get(Customer, person.id)
    assert (row.phone_e164, row.sms_consent, row.preferred_channel) == (None, None, None)
    assert db.session.get(Message, message.id).to_phone is None
    assert phone_opted_out(db.session, store, SMS, PHONE, "transactional")  # kept as a hash
