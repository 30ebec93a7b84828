"""The per-customer 30-day cap holds under concurrency: several requests of one customer, due at once and sent by
concurrent workers, enqueue at most the cap's messages (platform/guards.py's per-customer lock; PostgreSQL only,
SQLite serialises its writers)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.messaging.models import Message
from app.reviews.models import ReviewRequest
from tests.helpers import add_store
from tests.reviews.conftest import carrier, days, fulfillment, order, post

CAP = 2
ORDERS = (9001, 9002, 9003, 9004, 9005)
ROUNDS = 3  # one customer per round: a race lost by chance in one round is very unlikely to be lost in all


def _send_concurrently(app, claimed: list[tuple[int, int, int | None]]) -> list[str]:
    """Each claimed request sent by its own thread (own app context and session), all released at once."""
    from app.reviews.tasks import send_review_request

    barrier = threading.Barrier(len(claimed))
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def worker(request_id: int, attempt: int, store_id: int | None) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                outcomes.append(send_review_request(request_id, attempt, store_id))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=pair) for pair in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a sender did not finish"
    assert errors == []
    return outcomes


def test_concurrent_sends_of_one_customer_stay_within_the_cap(app, client, ctx, mail_clock):
    from app.reviews.requests import claim_due

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the race (and the advisory lock) is PostgreSQL's")
    store = add_store()
    store.settings = {"reviews": {"max_per_customer_30d": CAP}}
    db.session.commit()
    for round_ in range(ROUNDS):
        customer_id = 7001 + round_
        for order_id in ORDERS:
            oid = order_id + 100 * round_
            post(app, client, "orders/create", order(oid, customer_id=customer_id))
            post(app, client, "fulfillments/create", fulfillment(oid, oid, mail_clock.now))
            post(app, client, "fulfillment_events/create", carrier(oid, oid, mail_clock.now))
        mail_clock.advance(7 * 86400)
        claimed = claim_due(db.session, now=mail_clock.now, limit=100, lease=days(1) / 288)
        first_sends = set(db.session.scalars(select(ReviewRequest.id).where(ReviewRequest.status == "scheduled")))
        claimed = [pair for pair in claimed if pair[0] in first_sends]  # not the earlier rounds' reminders
        assert len(claimed) == len(ORDERS)
        outcomes = _send_concurrently(app, claimed)
        db.session.expire_all()
        sent = db.session.scalar(select(func.count(Message.id)).where(Message.template == "review_request"))
        per_customer = db.session.scalars(
            select(func.count(ReviewRequest.id))
            .where(ReviewRequest.sent_at.is_not(None))
            .group_by(ReviewRequest.customer_id)
        ).all()
        assert sorted(outcomes) == ["sent"] * CAP + ["skipped"] * (len(ORDERS) - CAP), (round_, outcomes)
        assert per_customer == [CAP] * (round_ + 1) and sent == CAP * (round_ + 1)
