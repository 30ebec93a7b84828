"""The e-mail channel end to end: enqueue -> scheduler step -> job -> a real SMTP server on loopback."""

from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.messaging import cancel_messages, enqueue_message, is_suppressed, unsubscribe_url
from app.messaging.models import EmailSuppression, Message
from app.messaging.tasks import schedule_messages, send_message
from app.records.models import Customer
from tests.helpers import add_store
from tests.messaging.conftest import parts, review_context


def run_jobs(app) -> int:
    """Run the queued send_message jobs in this process, as an rq worker would."""
    from rq import SimpleWorker

    from app.platform.queue import get_queue

    with app.app_context():
        queue = get_queue()
        count = queue.count
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        return count


def enqueue(store, **kwargs) -> int:
    values = {"template": "review_request", "to": "ola@example.com", "locale": None, "context": review_context()}
    values.update(kwargs)
    values.setdefault("dedupe_key", "review:order:1001")
    message = enqueue_message(db.session, store, **values)
    db.session.commit()
    return message.id


def deliver_all(app) -> None:
    schedule_messages(app)
    run_jobs(app)


def test_review_request_in_polish_multipart_with_links(app, ctx, smtp, mail_clock):
    store = add_store(name="Sklep Ceramiki")
    store.settings = {"branding": {"primary_color": "#aa3300"}}
    db.session.commit()
    enqueue(store, locale="pl-PL")
    deliver_all(app)
    assert len(smtp.messages) == 1
    _, rcpts, message = smtp.messages[0]
    assert rcpts == ["ola@example.com"]
    assert message["Subject"] == "Jak Ci się podoba zamówienie z Sklep Ceramiki?"
    text, html = parts(message)
    assert "Cześć Ola," in text and "Cześć Ola," in html
    assert "5 gwiazdek" in text and "2 gwiazdki" in text and "1 gwiazdka" in html
    assert "#aa3300" in html and "<style" not in html
    for product in review_context()["products"]:
        for url in product["star_urls"]:
            assert url in text and f'href="{url}"' in html
    assert "https://help.example/order/1001" in text and 'href="https://help.example/order/1001"' in html
    link = message["List-Unsubscribe"].strip("<>")
    assert link in text and link in htmllib.unescape(html)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    row = db.session.scalars(select(Message)).one()
    assert (row.status, row.locale, row.attempts) == ("sent", "pl", 1)
    assert message["Message-ID"] == row.message_id and row.sent_at == mail_clock.now


def test_thai_and_fallback_to_store_default(app, ctx, smtp, mail_clock):
    store = add_store(name="Shop")
    store.settings = {"locale": "hu"}
    db.session.commit()
    enqueue(store, locale="th", dedupe_key="a", to="a@example.com")
    enqueue(store, locale="xx-YY", dedupe_key="b", to="b@example.com")  # unknown: the store's default
    enqueue(store, locale="pt_BR", dedupe_key="c", to="c@example.com")  # no catalogue either
    deliver_all(app)
    by_rcpt = {rcpts[0]: message for _, rcpts, message in smtp.messages}
    assert by_rcpt["a@example.com"]["Subject"] == "คำสั่งซื้อจาก Shop เป็นอย่างไรบ้าง"
    assert "ขอความช่วยเหลือ" in parts(by_rcpt["a@example.com"])[0]
    for rcpt in ("b@example.com", "c@example.com"):
        assert by_rcpt[rcpt]["Subject"] == "Milyen volt a(z) Shop rendelésed?"


def test_customer_locale_used_when_caller_gives_none(app, ctx, smtp, mail_clock):
    store = add_store()
    customer = Customer(store_id=store.id, email="lv@example.com", email_key="lv@example.com", locale="lv-LV")
    db.session.add(customer)
    db.session.commit()
    enqueue(store, to="lv@example.com", customer_id=customer.id)
    deliver_all(app)
    assert smtp.messages[0][2]["Subject"].startswith("Kā tev patika pasūtījums")


def test_dedupe_returns_the_existing_row_unchanged(app, ctx, smtp, mail_clock):
    store = add_store()
    first = enqueue(store, locale="pl")
    second = enqueue(store, locale="th", to="other@example.com")
    assert first == second
    row = db.session.get(Message, first)
    assert (row.locale, row.to_address) == ("pl", "ola@example.com")
    deliver_all(app)
    deliver_all(app)
    assert len(smtp.messages) == 1


def test_suppressed_address_and_consent_off_are_never_sent(app, ctx, smtp, mail_clock):
    store = add_store()
    db.session.add(EmailSuppression(store_id=store.id, email_key=_hash("Ola@Example.com"), reason="manual"))
    customer = Customer(store_id=store.id, email="no@example.com", email_key="no@example.com", email_consent=False)
    db.session.add(customer)
    db.session.commit()
    assert is_suppressed(db.session, store, " OLA@example.com ")
    a = enqueue(store, dedupe_key="a")
    b = enqueue(store, dedupe_key="b", to="no@example.com", customer_id=customer.id)
    other = add_store("shopify", "other-shop.myshopify.com")
    c = enqueue(other, dedupe_key="a")  # the suppression is per store
    deliver_all(app)
    assert [db.session.get(Message, i).status for i in (a, b, c)] == ["suppressed", "suppressed", "sent"]
    assert [rcpts for _, rcpts, _ in smtp.messages] == [["ola@example.com"]]


def test_unsubscribe_link_round_trip(app, ctx, client, smtp, mail_clock):
    store = add_store(name="Sklep")
    enqueue(store, locale="pl", dedupe_key="first")
    deliver_all(app)
    link = smtp.messages[0][2]["List-Unsubscribe"].strip("<>")
    path = link.removeprefix(app.config["APP_URL"])
    page = client.get(path)
    assert page.status_code == 200 and "Wyłączyć e-maile od Sklep" in page.get_data(as_text=True)
    assert not is_suppressed(db.session, store, "ola@example.com")  # GET alone (a link scanner) changes nothing
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})  # RFC 8058 one-click POST
    assert done.status_code == 200 and "Wypisano Cię" in done.get_data(as_text=True)
    db.session.expire_all()
    assert is_suppressed(db.session, store, "ola@example.com")
    assert db.session.scalars(select(EmailSuppression.reason)).one() == "one_click"
    enqueue(store, dedupe_key="second")
    deliver_all(app)
    assert len(smtp.messages) == 1
    assert client.get(path[:-3] + "abc").status_code == 404
    assert unsubscribe_url(store, "ola@example.com") != unsubscribe_url(store, "eve@example.com")


def test_unsubscribed_after_queueing_is_not_sent(app, ctx, client, smtp, mail_clock):
    store = add_store()
    message_id = enqueue(store)
    client.post(unsubscribe_url(store, "ola@example.com").removeprefix(app.config["APP_URL"]))
    deliver_all(app)
    assert smtp.messages == [] and db.session.get(Message, message_id).status == "suppressed"


def test_cancel_by_prefix(app, ctx, smtp, mail_clock):
    store = add_store()
    keep = enqueue(store, dedupe_key="review:order:10:1")
    gone = [enqueue(store, dedupe_key=f"review:order:1:{n}") for n in (1, 2)]
    assert cancel_messages(db.session, store, dedupe_prefix="review:order:1:") == 2
    db.session.commit()
    deliver_all(app)
    db.session.expire_all()
    assert [db.session.get(Message, i).status for i in gone] == ["cancelled", "cancelled"]
    assert db.session.get(Message, keep).status == "sent"


def test_send_after_waits_for_its_time(app, ctx, smtp, mail_clock):
    store = add_store()
    enqueue(store, send_after=mail_clock.now + timedelta(hours=2))
    deliver_all(app)
    assert smtp.messages == []
    mail_clock.advance(2 * 3600)
    deliver_all(app)
    assert len(smtp.messages) == 1


def _hash(email: str) -> str:
    from app.messaging import email_hash

    return email_hash(email)


def test_message_id_is_deterministic(app, ctx, mail_clock):
    store = add_store()
    row = db.session.get(Message, enqueue(store))
    assert re.fullmatch(rf"<ppe\.{store.id}\.[0-9a-f]{{24}}@localhost>", row.message_id)
    assert send_message(10**9) == "skipped"
