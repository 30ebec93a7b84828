"""send_many (messaging/batch_send.py) decides exactly what send_to_customer decides, one message at a time, for
the same customers and calls: channel, status and reason, the held time, the cap's slots; and when a concurrent
sender takes a cap slot between its reads and its write, it falls back to one at a time and the cap still holds."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.messaging import email_hash, suppress
from app.messaging.api import MARKETING, Send, send_many, send_to_customer
from app.messaging.contacts import record_opt_out
from app.messaging.models import DailyCapSlot, Message
from app.records.models import Customer
from tests.helpers import add_store
from tests.messaging.conftest import review_context
from tests.messaging.test_channel_routing import providers  # noqa: F401 (fixture)

NOON = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
LATE = datetime(2027, 1, 10, 21, 30, tzinfo=UTC)  # 22:30 in Warsaw: inside the default quiet hours

PEOPLE = [
    {"email": "a@example.com"},
    {"email": "b@example.com", "accepts_marketing": True},
    {"email": "c@example.com", "email_consent": False},
    {"email": "gone@example.com"},  # unsubscribed
    {"email": "d@example.com", "phone_e164": "+48601234567"},  # SMS
    {"email": "e@example.com", "phone_e164": "+48601234568", "whatsapp_consent": True},
    {"email": "f@example.com", "phone_e164": "+48601234569"},  # said STOP: back to e-mail
    {"email": None, "phone_e164": None},  # nowhere to send
]


def _store(name: str):
    store = add_store(domain=f"{name}.myshopify.com")
    store.timezone = "Europe/Warsaw"
    store.settings = {"channels": {"order": ["whatsapp", "sms", "email"], "daily_cap": 2}}
    db.session.commit()
    people = []
    for n, values in enumerate(PEOPLE):
        row = Customer(store_id=store.id, first_name=f"P{n}", locale="pl", email_key=values.get("email"), **values)
        db.session.add(row)
        people.append(row)
    db.session.commit()
    suppress(db.session, store, email_hash("gone@example.com") or "", "unsubscribe")
    record_opt_out(db.session, store.id, "sms", "+48601234569", "stop", NOON)
    db.session.commit()
    return store, people


def _calls(people) -> list[Send]:
    calls = []
    for n, person in enumerate(people):
        for k in range(3):  # three capped messages each: the third is over the cap of 2
            calls.append(Send(person.id, "review_request", review_context(), f"k{n}-{k}", capped=True, send_after=NOON))
        calls.append(Send(person.id, "review_request", review_context(), f"m{n}", purpose=MARKETING, send_after=LATE))
        calls.append(Send(person.id, "review_request", review_context(), f"k{n}-0", capped=True))  # a replay
    return calls


def _outcome(store) -> list[tuple]:
    rows = db.session.scalars(select(Message).where(Message.store_id == store.id).order_by(Message.dedupe_key)).all()
    slots = {s.message_id: s.slot for s in db.session.scalars(select(DailyCapSlot))}
    order = {c.id: n for n, c in enumerate(db.session.scalars(select(Customer).where(Customer.store_id == store.id)))}
    return [
        (m.dedupe_key, order[m.customer_id], m.channel, m.status, m.reason, m.to_phone, m.next_attempt_at, m.locale,
         slots.get(m.id), bool(m.message_id))
        for m in rows
    ]  # fmt: skip


def test_send_many_decides_as_send_to_customer_does(app, ctx, providers):  # noqa: F811
    one, people_one = _store("one")
    for call in _calls(people_one):
        send_to_customer(db.session, one, customer_id=call.customer_id, template=call.template, context=call.context,
                         dedupe_key=call.dedupe_key, purpose=call.purpose, capped=call.capped,
                         send_after=call.send_after)  # fmt: skip
    db.session.commit()
    many, people_many = _store("many")
    messages = send_many(db.session, many, _calls(people_many))
    db.session.commit()
    expected = _outcome(one)
    assert _outcome(many) == expected
    channels = {row[2] for row in expected}
    assert channels == {"email", "sms", "whatsapp"}
    assert {row[4] for row in expected} >= {None, "daily_cap", "no_channel"}
    assert [m.dedupe_key for m in messages] == [c.dedupe_key for c in _calls(people_many)]
    again = send_many(db.session, many, _calls(people_many))  # replayed whole: the same rows, nothing new
    assert [m.id for m in again] == [m.id for m in messages]


def test_a_slot_taken_between_the_reads_and_the_write_falls_back_and_the_cap_holds(app, ctx, monkeypatch):
    from app.messaging import batch_send

    store = add_store()
    store.settings = {"channels": {"daily_cap": 2}}
    db.session.commit()
    person = Customer(store_id=store.id, email="a@example.com", email_key="a@example.com")
    db.session.add(person)
    db.session.commit()
    first = send_to_customer(db.session, store, customer_id=person.id, template="review_request",
                             context=review_context(), dedupe_key="earlier", capped=True, send_after=NOON)  # fmt: skip
    db.session.commit()
    # As if the batch read the slots before that send committed: it believes slot 0 free and collides on the key.
    monkeypatch.setattr(batch_send, "_taken_slots", lambda *args: defaultdict(set))
    calls = [
        Send(person.id, "review_request", review_context(), f"b{n}", capped=True, send_after=NOON) for n in range(2)
    ]
    rows = send_many(db.session, store, calls)
    db.session.commit()
    assert [r.status for r in rows] == ["queued", "suppressed"] and rows[1].reason == "daily_cap"
    slots = db.session.scalars(select(DailyCapSlot.message_id).order_by(DailyCapSlot.slot)).all()
    assert slots == [first.id, rows[0].id]


def test_each_message_is_written_once_with_its_message_id_and_cap_decision(app, ctx, providers):  # noqa: F811
    """The queueing step's cost is its statements (bench/README.md, the delivery journey): a message's Message-ID
    and its cap decision are known before the INSERT, so no message row is written twice."""
    from sqlalchemy import event

    from app.messaging import _message_id

    store, people = _store("once")
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        messages = send_many(db.session, store, _calls(people))
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE MESSAGES")]
    assert {m.status for m in messages} >= {"queued", "suppressed"}
    assert all(m.message_id == _message_id(store.id, m.dedupe_key) for m in messages)
