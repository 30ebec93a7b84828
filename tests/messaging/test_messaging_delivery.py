"""Outbox delivery: retries with backoff, permanent failures, crashed workers, the file channel, uninstall."""

from __future__ import annotations

import email
import email.policy
import socket
from datetime import timedelta

from app.extensions import db
from app.messaging import enqueue_message
from app.messaging.models import Message
from app.messaging.outbox import claim_due
from app.messaging.tasks import schedule_messages
from app.stores.uninstall import on_uninstalled
from tests.helpers import add_store
from tests.messaging.conftest import parts, review_context
from tests.messaging.test_messaging import run_jobs


def _enqueue(store, dedupe_key: str = "review:1", **kwargs) -> int:
    values = {"template": "review_request", "to": "ola@example.com", "locale": "en", "context": review_context()}
    values.update(kwargs)
    row = enqueue_message(db.session, store, dedupe_key=dedupe_key, **values)
    db.session.commit()
    return row.id


def _step(app) -> None:
    schedule_messages(app)
    run_jobs(app)


def _row(message_id: int) -> Message:
    db.session.expire_all()
    return db.session.get(Message, message_id)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_smtp_down_then_4xx_retried_with_backoff_then_sent(app, ctx, smtp, mail_clock, monkeypatch):
    store = add_store()
    message_id = _enqueue(store)
    monkeypatch.setitem(app.config, "SMTP_PORT", _closed_port())  # connection refused
    _step(app)
    row = _row(message_id)
    assert (row.status, row.attempts) == ("queued", 1) and row.last_error.startswith("transient:")
    assert row.next_attempt_at == mail_clock.now + timedelta(seconds=30)
    assert "ola@" not in row.last_error
    mail_clock.advance(29)
    _step(app)
    assert _row(message_id).attempts == 1  # not due yet
    mail_clock.advance(1)
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp.port)
    smtp.rcpt_replies = ["451 4.3.0 Try again later"]
    _step(app)
    row = _row(message_id)
    assert (row.status, row.attempts) == ("queued", 2) and "451" in row.last_error
    assert row.next_attempt_at == mail_clock.now + timedelta(seconds=60)  # doubled
    mail_clock.advance(60)
    _step(app)
    row = _row(message_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert len(smtp.messages) == 1


def test_recipient_refused_5xx_fails_without_retry(app, ctx, smtp, mail_clock):
    store = add_store()
    message_id = _enqueue(store)
    smtp.rcpt_replies = ["550 5.1.1 No such user"]
    _step(app)
    row = _row(message_id)
    assert (row.status, row.attempts) == ("failed", 1) and "550" in row.last_error
    mail_clock.advance(24 * 3600)
    _step(app)
    assert _row(message_id).attempts == 1 and smtp.messages == []


def test_transient_errors_stop_after_max_attempts(app, ctx, smtp, mail_clock, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    store = add_store()
    message_id = _enqueue(store)
    for _ in range(5):
        smtp.rcpt_replies = ["421 4.7.0 Busy"]
        _step(app)
        mail_clock.advance(3600)
    row = _row(message_id)
    assert (row.status, row.attempts) == ("failed", 3)


def test_a_send_job_queued_by_the_previous_release_still_sends(app, ctx, smtp, mail_clock):
    """Jobs carry their store id now (the claim returns it); the previous release enqueued the message id and the
    attempt alone, and such jobs are still in Redis after a deploy: they read the store once and send."""
    store = add_store()
    message_id = _enqueue(store)
    lease = timedelta(seconds=app.config["MAIL_LEASE_SECONDS"])
    assert claim_due(db.session, now=mail_clock.now, limit=10, lease=lease) == [(message_id, 1, store.id)]
    from app.platform.queue import get_queue

    get_queue().enqueue("app.messaging.tasks.send_message", message_id, 1)  # the old shape: no store id
    assert run_jobs(app) == 1
    assert len(smtp.messages) == 1
    assert _row(message_id).status == "sent"


def test_worker_killed_after_claim_is_sent_once_after_the_lease(app, ctx, smtp, mail_clock):
    store = add_store()
    message_id = _enqueue(store)
    lease = timedelta(seconds=app.config["MAIL_LEASE_SECONDS"])
    claimed = claim_due(db.session, now=mail_clock.now, limit=10, lease=lease)  # a worker claims, then dies
    assert claimed == [(message_id, 1, store.id)]
    from app.platform.queue import get_queue

    get_queue().enqueue("app.messaging.tasks.send_message", message_id, 1)  # its job, to run late
    mail_clock.advance(lease.total_seconds() - 1)
    assert claim_due(db.session, now=mail_clock.now, limit=10, lease=lease) == []  # still leased
    assert schedule_messages(app)["released"] == 0
    mail_clock.advance(2)
    assert schedule_messages(app) == {"claimed": 1, "released": 1}
    assert run_jobs(app) == 2  # the stale job (attempt 1) and the new one (attempt 2)
    assert len(smtp.messages) == 1
    row = _row(message_id)
    assert (row.status, row.attempts) == ("sent", 2)
    assert smtp.messages[0][2]["Message-ID"] == row.message_id


def test_file_channel_when_smtp_host_unset(app, ctx, mail_clock, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path / "mail"))
    store = add_store(name="Dev Shop")
    message_id = _enqueue(
        store,
        template="points_expiring",
        locale="pl",
        to="dev@example.com",
        context={"first_name": "Jan", "points": 1250, "expires_on": "2027-03-12", "shop_url": "https://s.example"},
    )
    _step(app)
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1 and _row(message_id).status == "sent"
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == "dev@example.com" and message["Message-ID"] == _row(message_id).message_id
    text, html = parts(message)
    assert "punktów wygasa 12 marca 2027" in text and "1\xa0250" in text and "Przejdź do sklepu" in html
    assert message["Subject"] == "1\xa0250 punktów wkrótce wygaśnie w Dev Shop"


def test_store_sender_override_is_validated(app, ctx, smtp, mail_clock):
    store = add_store(name="Main")
    store.settings = {"email": {"from_name": "Ceramika Ola", "from_address": "hello@ceramika.example"}}
    other = add_store("shopify", "bad-shop.myshopify.com", name="Bad")
    other.settings = {
        "email": {"from_name": "X\r\nBcc: evil@example.com", "from_address": "not an address"},
        "branding": {"primary_color": "red;background:url(x)", "logo_url": "javascript:alert(1)"},
    }
    db.session.commit()
    _enqueue(store, to="a@example.com")
    _enqueue(other, to="b@example.com")
    _step(app)
    by_rcpt = {rcpts[0]: (sender, message) for sender, rcpts, message in smtp.messages}
    sender, message = by_rcpt["a@example.com"]
    assert sender == "hello@ceramika.example" and message["From"] == "Ceramika Ola <hello@ceramika.example>"
    sender, message = by_rcpt["b@example.com"]
    assert sender == "no-reply@localhost" and message["From"] == "Bad <no-reply@localhost>"
    html = parts(message)[1]
    assert "#1f2937" in html and "javascript:" not in html and "evil" not in str(message)


def test_uninstall_cancels_queued_messages(app, ctx, smtp, mail_clock):
    store = add_store()
    message_id = _enqueue(store)
    store.status = "uninstalled"
    on_uninstalled(db.session, store)
    db.session.commit()
    _step(app)
    assert _row(message_id).status == "cancelled" and smtp.messages == []


def test_customer_redact_erases_the_recipient(app, ctx, smtp, mail_clock):
    from app.compliance.service import erase_customers
    from app.records.models import Customer

    store = add_store()
    customer = Customer(store_id=store.id, email="ola@example.com", email_key="ola@example.com")
    db.session.add(customer)
    db.session.commit()
    message_id = _enqueue(store, customer_id=customer.id)
    assert erase_customers(db.session, store, [customer.id])["messages"] == 1
    db.session.commit()
    row = _row(message_id)
    assert (row.to_address, row.context) == (None, None)
    _step(app)
    assert _row(message_id).status == "cancelled" and smtp.messages == []


def test_reply_to_is_the_stores_when_set_and_valid(app, ctx, smtp, mail_clock):
    store = add_store(name="Main")
    store.settings = {"email": {"reply_to": "owner@ceramika.example"}}
    other = add_store("shopify", "bad-shop.myshopify.com", name="Bad")
    other.settings = {"email": {"reply_to": "owner@ceramika.example\r\nBcc: evil@example.com"}}
    db.session.commit()
    _enqueue(store, to="a@example.com")
    _enqueue(other, to="b@example.com")
    _step(app)
    by_rcpt = {rcpts[0]: message for _sender, rcpts, message in smtp.messages}
    assert by_rcpt["a@example.com"]["Reply-To"] == "owner@ceramika.example"
    assert by_rcpt["b@example.com"]["Reply-To"] is None and "evil" not in str(by_rcpt["b@example.com"])
