"""Review requests follow the order: due after delivery (or after shipping), cancelled, moved, capped."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.messaging.models import Message
from app.reviews.models import ReviewRequest
from tests.helpers import add_store
from tests.reviews.conftest import carrier, days, fulfillment, order, post, send_due


def _requests() -> list[ReviewRequest]:
    db.session.expire_all()
    return list(db.session.scalars(select(ReviewRequest).order_by(ReviewRequest.id)))


def _messages() -> list[Message]:
    db.session.expire_all()
    return list(db.session.scalars(select(Message).order_by(Message.id)))


def test_cancelled_before_the_send_sends_nothing(app, client, ctx, smtp, mail_clock):
    add_store()
    post(app, client, "orders/create", order())
    post(app, client, "fulfillments/create", fulfillment(1, 9001, mail_clock.now))
    post(app, client, "fulfillment_events/create", carrier(1, 9001, mail_clock.now))
    assert [(r.status, r.due_at) for r in _requests()] == [("scheduled", mail_clock.now + days(7))]
    post(
        app,
        client,
        "orders/cancelled",
        order(cancelled_at="2027-03-02T10:00:00+00:00", updated_at="2027-03-02T10:00:00+00:00"),
    )
    mail_clock.advance(8 * 86400)
    send_due(app)
    assert [(r.status, r.reason) for r in _requests()] == [("cancelled", "cancelled")]
    assert smtp.messages == [] and _messages() == []


def test_duplicated_delivered_event_gives_one_request(app, client, ctx, smtp, mail_clock):
    add_store()
    post(app, client, "orders/create", order())
    post(app, client, "fulfillments/create", fulfillment(1, 9001, mail_clock.now - days(2)))
    for _ in range(2):  # the same carrier event twice, under two delivery ids
        post(app, client, "fulfillment_events/create", carrier(1, 9001, mail_clock.now))
    post(app, client, "fulfillment_events/create", carrier(1, 9001, mail_clock.now + days(1), event_id=77))
    assert [r.due_at for r in _requests()] == [mail_clock.now + days(7)]  # the first delivery counts
    mail_clock.advance(7 * 86400)
    send_due(app)
    send_due(app)
    assert len(smtp.messages) == 1 and [r.status for r in _requests()] == ["sent"]


def test_worker_killed_between_claim_and_send_still_sends_once(app, client, ctx, smtp, mail_clock):
    from app.platform.queue import get_queue
    from app.reviews.tasks import schedule_review_requests, send_review_request

    add_store()
    post(app, client, "orders/create", order())
    post(app, client, "fulfillments/create", fulfillment(1, 9001, mail_clock.now))
    post(app, client, "fulfillment_events/create", carrier(1, 9001, mail_clock.now))
    mail_clock.advance(7 * 86400)
    assert schedule_review_requests(app) == {"claimed": 1}
    get_queue().empty()  # the worker died with the job: nothing ran
    assert schedule_review_requests(app) == {"claimed": 0}  # leased
    mail_clock.advance(app.config.get("REVIEW_LEASE_SECONDS", 300) + 1)
    send_due(app)  # claimed again (attempt 2) and sent
    request_id = _requests()[0].id
    assert send_review_request(request_id, 1) == "stale"  # the dead worker's job, had it been retried
    send_due(app)
    assert len(smtp.messages) == 1 and len(_messages()) == 1
    assert _messages()[0].dedupe_key == f"review_request:{request_id}"


def test_partial_fulfilment_waits_for_the_last_parcel(app, client, ctx, mail_clock):
    add_store()
    post(app, client, "orders/create", order())
    post(app, client, "fulfillments/create", fulfillment(1, 9001, mail_clock.now))
    post(app, client, "fulfillments/create", fulfillment(2, 9001, mail_clock.now + days(1)))
    post(app, client, "fulfillment_events/create", carrier(1, 9001, mail_clock.now + days(2)))
    # One parcel delivered, one on its way: only the fallback (last shipped + 14 days) is set.
    assert [r.due_at for r in _requests()] == [mail_clock.now + days(1 + 14)]
    post(app, client, "fulfillment_events/create", carrier(2, 9001, mail_clock.now + days(4)))
    assert [r.due_at for r in _requests()] == [mail_clock.now + days(4 + 7)]


def test_fallback_when_no_delivery_event_and_refulfilment_moves_it(app, client, ctx, mail_clock):
    add_store()
    post(app, client, "orders/create", order())
    post(app, client, "fulfillments/create", fulfillment(1, 9001, mail_clock.now))
    assert [r.due_at for r in _requests()] == [mail_clock.now + days(14)]
    later = mail_clock.now + days(3)
    post(
        app,
        client,
        "fulfillments/update",
        fulfillment(1, 9001, mail_clock.now, status="cancelled", updated_at=later.isoformat()),
    )
    assert [(r.status, r.reason) for r in _requests()] == [("cancelled", "unfulfilled")]
    post(app, client, "fulfillments/create", fulfillment(2, 9001, later))
    assert [(r.status, r.due_at) for r in _requests()] == [("scheduled", later + days(14))]


def test_per_customer_cap_is_checked_at_send_time(app, client, ctx, smtp, mail_clock):
    store = add_store()
    store.settings = {"reviews": {"max_per_customer_30d": 1}}
    db.session.commit()
    for order_id in (9001, 9002):
        post(app, client, "orders/create", order(order_id))
        post(app, client, "fulfillments/create", fulfillment(order_id, order_id, mail_clock.now))
        post(app, client, "fulfillment_events/create", carrier(order_id, order_id, mail_clock.now))
    mail_clock.advance(7 * 86400)
    send_due(app)
    assert sorted((r.status, r.reason) for r in _requests()) == [("sent", None), ("skipped", "customer_cap")]
    assert len(smtp.messages) == 1


def test_woocommerce_completion_counts_as_delivery(app, client, ctx, mail_clock):
    """WooCommerce reports no carrier events: "completed" starts the delay (7 days), not the shipped fallback (14)."""
    from tests.helpers import dumps, fixture_json, process_all, woo_headers

    add_store("woocommerce")
    payload = fixture_json("woocommerce", "order")
    gmt = mail_clock.now.replace(tzinfo=None).isoformat(timespec="seconds")
    payload.update(status="completed", date_completed_gmt=gmt, date_modified_gmt=gmt, date_paid_gmt=gmt)
    body = dumps(payload)
    answer = client.post("/webhooks/woocommerce", data=body, headers=woo_headers("order.updated", body))
    assert answer.status_code == 200
    process_all(app)
    assert [(r.status, r.due_at) for r in _requests()] == [("scheduled", mail_clock.now + days(7))]
