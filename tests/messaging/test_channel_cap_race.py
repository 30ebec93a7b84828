"""The daily cap and the dedupe key hold under concurrency (PostgreSQL only: SQLite serialises its writers), and
quiet hours hold a message until the window ends, then the outbox sends it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.messaging.api import send_to_customer
from app.messaging.models import DailyCapSlot, Message
from tests.helpers import add_store
from tests.messaging.channel_fixtures import add_customer, deliver
from tests.messaging.conftest import review_context

THREADS = 8


def _race(app, store_id: int, customer_id: int, keys: list[str]) -> None:
    from app.stores.models import Store

    barrier = threading.Barrier(len(keys))
    errors: list[BaseException] = []

    def worker(key: str) -> None:
        try:
            with app.app_context():
                store = db.session.get(Store, store_id)
                barrier.wait(timeout=10)
                send_to_customer(db.session, store, customer_id=customer_id, template="review_request",
                                 context=review_context(), dedupe_key=key, capped=True)  # fmt: skip
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads) and errors == []


def test_concurrent_capped_sends_stay_within_the_daily_cap(app, ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the race is PostgreSQL's")
    store = add_store()
    store.settings = {"channels": {"daily_cap": 3}}
    db.session.commit()
    for round_ in range(3):
        person = add_customer(store, email=f"c{round_}@example.com", email_key=f"c{round_}@example.com")
        _race(app, store.id, person.id, [f"r{round_}-{n}" for n in range(THREADS)])
        db.session.expire_all()
        statuses = db.session.scalars(select(Message.status).where(Message.customer_id == person.id)).all()
        assert len(statuses) == THREADS
        assert statuses.count("queued") == 3 and statuses.count("suppressed") == THREADS - 3
        slots = db.session.scalar(select(func.count(DailyCapSlot.id)).where(DailyCapSlot.customer_id == person.id))
        assert slots == 3
    # one dedupe key sent by all at once: one row, one slot
    person = add_customer(store, email="same@example.com", email_key="same@example.com")
    _race(app, store.id, person.id, ["same"] * THREADS)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Message.id)).where(Message.customer_id == person.id)) == 1
    assert db.session.scalar(select(func.count(DailyCapSlot.id)).where(DailyCapSlot.customer_id == person.id)) == 1


def test_quiet_hours_hold_then_release_through_the_outbox(app, ctx, smtp, mail_clock):
    store = add_store(name="Sklep")
    store.timezone = "Asia/Bangkok"  # UTC+7, no DST
    db.session.commit()
    person = add_customer(store)
    mail_clock.now = datetime(2027, 3, 1, 15, 30, tzinfo=UTC)  # 22:30 in Bangkok
    message = send_to_customer(db.session, store, customer_id=person.id, template="review_request",
                               context=review_context(), dedupe_key="late", urgent=False)  # fmt: skip
    db.session.commit()
    assert message.next_attempt_at == datetime(2027, 3, 2, 1, 0, tzinfo=UTC)  # 08:00 in Bangkok
    mail_clock.now = datetime(2027, 3, 2, 0, 59, tzinfo=UTC)
    deliver(app)
    assert smtp.messages == []  # held, not dropped
    assert db.session.get(Message, message.id).status == "queued"
    mail_clock.now += timedelta(minutes=1)
    deliver(app)
    assert len(smtp.messages) == 1
    db.session.expire_all()
    assert db.session.get(Message, message.id).status == "sent"
