"""SMS (Twilio) and WhatsApp (Cloud API) end to end over real HTTP: the outbox job sends to the stand-ins, which
check every request against the documented format; their signed callbacks reach our /webhooks/* door, are
stored, and the callback worker applies them (receipts, cost, STOP, fallback to e-mail)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.messaging.api import send_to_customer
from app.messaging.contacts import phone_opted_out
from app.messaging.models import Message, ProviderCallback
from tests.helpers import add_store
from tests.messaging.channel_fixtures import add_customer, deliver, process_callbacks
from tests.messaging.conftest import SENDER, review_context
from tests.support.conftest import admin_headers

PHONE = "+48601234567"


def _store(order):
    store = add_store(name="Sklep")
    store.settings = {"channels": {"order": order}}
    db.session.commit()
    return store


def _send(store, customer, key="r1", **kwargs) -> int:
    message = send_to_customer(
        db.session, store, customer_id=customer.id, template="review_request", context=review_context(),
        dedupe_key=key, **kwargs,
    )  # fmt: skip
    db.session.commit()
    return message.id


def _rows():
    db.session.expire_all()
    return db.session.scalars(select(Message).order_by(Message.id)).all()


def test_sms_sent_receipt_cost_and_stop_end_to_end(app, client, ctx, providers, smtp, mail_clock):
    twilio, _ = providers
    store = _store(["sms", "email"])
    person = add_customer(store, phone_e164=PHONE)
    message_id = _send(store, person)
    deliver(app)
    assert twilio.refused == []
    [form] = twilio.sent
    assert form["To"] == PHONE and form["From"] == SENDER and "Sklep" in form["Body"]
    assert form["StatusCallback"].endswith("/webhooks/twilio")
    row = db.session.get(Message, message_id)
    assert (row.status, row.channel, row.provider_ref[:2]) == ("sent", "sms", "SM")

    sid = row.provider_ref
    assert twilio.send_status(sid, "delivered").status_code == 200
    assert twilio.send_status(sid, "sent").status_code == 200  # late, out of order
    assert twilio.send_status(sid, "delivered").status_code == 200  # Twilio's retry: stored once
    assert db.session.scalar(select(db.func.count(ProviderCallback.id))) == 2
    assert process_callbacks(app) == 2
    row = _rows()[0]
    assert row.delivery_status == "delivered"  # the late "sent" did not go backwards
    assert (row.cost, row.cost_currency) == (Decimal("0.0079"), "USD")
    costs = client.get("/admin/api/v1/messaging/costs", headers=admin_headers(app, store)).json
    assert costs["costs"] == [{"channel": "sms", "currency": "USD", "total": "0.0079", "messages": 1}]
    assert costs["unpriced"] == {}

    assert twilio.send_inbound(f"{twilio_url(app)}/webhooks/twilio", PHONE, " stop ").status_code == 200
    process_callbacks(app)
    assert phone_opted_out(db.session, store, "sms", PHONE, "transactional")
    _send(store, person, "r2")  # after STOP: e-mail
    assert _rows()[-1].channel == "email"
    assert twilio.send_inbound(f"{twilio_url(app)}/webhooks/twilio", PHONE, "START").status_code == 200
    process_callbacks(app)
    assert not phone_opted_out(db.session, store, "sms", PHONE, "transactional")


def twilio_url(app) -> str:
    return app.config["APP_URL"]


def test_bad_signatures_are_refused_and_not_stored(app, ctx, providers, live):
    twilio, whatsapp = providers
    answer = twilio.post_signed(f"{live}/webhooks/twilio", {"AccountSid": twilio.account_sid, "MessageSid": "SM1"},
                                token="wrong-token")  # fmt: skip
    assert answer.status_code == 401
    assert whatsapp.post_webhook({"statuses": []}, secret="wrong").status_code == 401
    assert db.session.scalar(select(db.func.count(ProviderCallback.id))) == 0
    import requests

    ok = requests.get(f"{live}/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": "verify-me",
                                                          "hub.challenge": "1158201444"}, timeout=5)  # fmt: skip
    assert (ok.status_code, ok.text) == (200, "1158201444")
    bad = requests.get(f"{live}/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": "x",
                                                           "hub.challenge": "1"}, timeout=5)  # fmt: skip
    assert bad.status_code == 403


def test_sms_provider_error_falls_back_to_email_once(app, ctx, providers, smtp, mail_clock):
    twilio, _ = providers
    twilio.invalid.add(PHONE)
    store = _store(["sms", "email"])
    person = add_customer(store, phone_e164=PHONE)
    _send(store, person)
    deliver(app)  # the SMS is refused (21211): failed, and its e-mail copy queued
    deliver(app)  # the e-mail goes
    rows = _rows()
    assert [(r.channel, r.status) for r in rows] == [("sms", "failed"), ("email", "sent")]
    assert rows[0].last_error == "permanent: twilio 21211"
    assert rows[1].dedupe_key == "r1|email"
    assert len(smtp.messages) == 1 and smtp.messages[0][1] == ["ola@example.com"]


def test_twilio_429_is_retried_then_sent(app, ctx, providers, mail_clock):
    twilio, _ = providers
    twilio.throttle = 1
    store = _store(["sms", "email"])
    _send(store, add_customer(store, phone_e164=PHONE))
    deliver(app)
    assert _rows()[0].status == "queued" and _rows()[0].last_error == "transient: twilio 429 20429"
    mail_clock.advance(60)
    deliver(app)
    assert _rows()[0].status == "sent" and len(twilio.sent) == 1


def test_whatsapp_template_outside_window_text_inside_cost_and_131047_fallback(app, ctx, providers, smtp, mail_clock):
    _, whatsapp = providers
    whatsapp.clock = lambda: mail_clock.now.timestamp()
    store = _store(["whatsapp", "email"])
    person = add_customer(store, phone_e164=PHONE, whatsapp_consent=True)
    _send(store, person, "w1")
    deliver(app)
    assert whatsapp.refused == []
    first = whatsapp.sent[0]
    assert first["type"] == "template" and first["to"] == PHONE.lstrip("+")
    assert first["template"]["name"] == "review_request_v1" and first["template"]["language"] == {"code": "pl"}
    params = first["template"]["components"][0]["parameters"]
    assert [p["text"] for p in params][:2] == ["Ola", "Sklep"]
    assert whatsapp.flush() == [200, 200]  # sent, delivered: signed webhooks to our door
    process_callbacks(app)
    row = _rows()[0]
    assert (row.delivery_status, row.cost, row.cost_currency) == ("delivered", Decimal("0.0040"), "USD")

    # The customer writes: the 24-hour window opens, the next message is free-form text.
    assert whatsapp.send_inbound(PHONE.lstrip("+"), "Dzięki!").status_code == 200
    process_callbacks(app)
    _send(store, person, "w2")
    deliver(app)
    assert whatsapp.sent[1]["type"] == "text" and "Sklep" in whatsapp.sent[1]["text"]["body"]

    # Meta's clock says the window closed while ours still has it open: Meta takes the text, then its receipt
    # fails it with 131047 (re-engagement message); the row fails and its e-mail copy goes, once.
    whatsapp.pending.clear()
    whatsapp.window.clear()
    _send(store, person, "w3")
    deliver(app)
    assert whatsapp.sent[2]["type"] == "text"
    assert whatsapp.flush() == [200]
    whatsapp.post_webhook({"statuses": []})  # an empty change: nothing to do
    process_callbacks(app)
    deliver(app)
    rows = {r.dedupe_key: r for r in _rows()}
    assert rows["w3"].status == "failed" and rows["w3"].last_error == "receipt: failed 131047"
    assert rows["w3|email"].status == "sent" and len(smtp.messages) == 1

    # A number WhatsApp cannot deliver to (131026): the same fallback.
    whatsapp.undeliverable.add(PHONE.lstrip("+"))
    _send(store, person, "w4")
    deliver(app)
    whatsapp.flush()
    process_callbacks(app)
    deliver(app)
    rows = {r.dedupe_key: r for r in _rows()}
    assert rows["w4"].status == "failed" and rows["w4"].last_error == "receipt: failed 131026"
    assert rows["w4|email"].status == "sent" and len(smtp.messages) == 2
    assert whatsapp.refused == []


def test_whatsapp_marketing_stop_only_stops_marketing(app, ctx, providers):
    _, whatsapp = providers
    store = _store(["whatsapp", "email"])
    person = add_customer(store, phone_e164=PHONE, whatsapp_consent=True, whatsapp_marketing_consent=True)
    _send(store, person, "w1")
    deliver(app)
    assert whatsapp.send_preference(PHONE.lstrip("+"), "stop").status_code == 200
    process_callbacks(app)
    assert phone_opted_out(db.session, store, "whatsapp", PHONE, "marketing")
    assert not phone_opted_out(db.session, store, "whatsapp", PHONE, "transactional")


def test_the_standins_refuse_what_the_providers_refuse(app, ctx, providers, smtp, mail_clock):
    import requests

    twilio, whatsapp = providers
    url = f"{twilio.base_url}/2010-04-01/Accounts/{twilio.account_sid}/Messages.json"
    auth = (twilio.account_sid, twilio.auth_token)
    assert requests.post(url, data={"To": PHONE, "From": SENDER}, auth=auth, timeout=5).json()["code"] == 21602
    assert (
        requests.post(url, data={"To": "601234567", "From": SENDER, "Body": "x"}, auth=auth, timeout=5).json()["code"]
        == 21211
    )
    assert requests.post(url, data={"To": PHONE, "Body": "x"}, auth=auth, timeout=5).json()["code"] == 21603
    assert (
        requests.post(url, data={"To": PHONE, "From": SENDER, "Body": "x"}, auth=("AC1", "x"), timeout=5).status_code
        == 401
    )
    wa_url = f"{whatsapp.base_url}/v21.0/{whatsapp.phone_number_id}/messages"
    bearer = {"Authorization": f"Bearer {whatsapp.token}"}
    answer = requests.post(wa_url, json={"to": "48601234567", "type": "text", "text": {"body": "x"}}, headers=bearer)
    assert answer.status_code == 400  # no messaging_product
    assert len(twilio.refused) == 4 and len(whatsapp.refused) == 1

    # An approved template missing in the customer's language (132001): the send fails over to e-mail.
    whatsapp.templates = {}
    store = _store(["whatsapp", "email"])
    _send(store, add_customer(store, phone_e164=PHONE, whatsapp_consent=True), "t1")
    deliver(app)
    deliver(app)
    rows = {r.dedupe_key: r for r in _rows()}
    assert rows["t1"].last_error == "permanent: whatsapp 132001"
    assert rows["t1|email"].status == "sent"


def test_the_providers_calls_reuse_a_kept_alive_connection(app, ctx, providers):
    """Twilio's and Meta's APIs keep connections alive: a message is one request on a pooled connection, not a new
    TCP and TLS handshake (with the CA bundle loaded again, ~20 ms of CPU) per message."""
    from app.messaging.providers import TwilioSms, WhatsAppCloud

    twilio, whatsapp = providers
    for n in range(3):
        TwilioSms(app.config).send(PHONE, f"Parcel {n} is on its way", None)
        WhatsAppCloud(app.config).send_text(PHONE.lstrip("+"), f"Parcel {n} is on its way")
    assert (len(twilio.sent), len(whatsapp.sent)) == (3, 3)
    assert (len(twilio.connections), len(whatsapp.connections)) == (1, 1)
