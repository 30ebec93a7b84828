"""The issue's must-show: a Polish order, shipped and delivered, gets one Polish e-mail after the delay,
its one-click star links open the form with that rating, the POST stores a verified review, and the
reminder is then never sent. A real SMTP server on loopback, signed webhooks, the scheduler's steps."""

from __future__ import annotations

from urllib.parse import urlparse

from sqlalchemy import select

from app.extensions import db
from app.messaging.models import Message
from app.reviews.models import Review, ReviewRequest
from tests.helpers import add_store
from tests.messaging.conftest import parts
from tests.reviews.conftest import carrier, days, fulfillment, order, post, send_due, star_links


def test_polish_order_delivered_one_email_star_link_form_review_no_reminder(app, client, ctx, smtp, mail_clock):
    add_store(name="Sklep Ceramiki")
    post(app, client, "orders/create", order(locale="pl-PL"))
    post(app, client, "fulfillments/create", fulfillment(1, 9001, mail_clock.now - days(2)))
    post(app, client, "fulfillment_events/create", carrier(1, 9001, mail_clock.now))
    mail_clock.advance(7 * 86400 - 60)
    send_due(app)
    assert smtp.messages == []  # a minute early
    mail_clock.advance(60)
    send_due(app)
    send_due(app)
    assert len(smtp.messages) == 1
    _, rcpts, message = smtp.messages[0]
    assert rcpts == ["ola@example.pl"]
    assert message["Subject"] == "Jak Ci się podoba zamówienie z Sklep Ceramiki?"
    text, html = parts(message)
    assert "Cześć Ola," in text and "Kubek" in text and "Talerz" in text
    links = star_links(text)
    assert len(links) == 10  # five per product
    four_stars_kubek = links[3]

    page = client.get(urlparse(four_stars_kubek).path)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'lang="pl"' in body and "Napisz opinię" in body and "Kubek" in body
    assert 'id="rating-4" name="rating" value="4" checked' in body
    assert 'value="5" checked' not in body
    assert db.session.scalar(select(Review.id)) is None  # a GET stores nothing

    answer = client.post(
        urlparse(four_stars_kubek).path,
        data={"rating": "4", "title": "Piękny", "body": "Solidny kubek, szybka dostawa.", "display_name": "Ola"},
    )
    assert answer.status_code == 201 and "Dziękujemy za opinię!" in answer.get_data(as_text=True)
    db.session.expire_all()
    review = db.session.scalars(select(Review)).one()
    assert (review.product_id, review.rating, review.verified, review.status) == ("111", 4, True, "published")
    assert review.order_platform_id == "9001" and review.customer_id is not None
    request = db.session.scalars(select(ReviewRequest)).one()
    assert request.status == "reviewed"

    mail_clock.advance(10 * 86400)  # past reminder_days (5)
    send_due(app)
    assert len(smtp.messages) == 1
    assert [m.template for m in db.session.scalars(select(Message))] == ["review_request"]


def test_reminder_sent_once_when_no_review(app, client, ctx, smtp, mail_clock):
    add_store()
    post(app, client, "orders/create", order(locale="en"))
    post(app, client, "fulfillments/create", fulfillment(1, 9001, mail_clock.now))
    post(app, client, "fulfillment_events/create", carrier(1, 9001, mail_clock.now))
    mail_clock.advance(7 * 86400)
    send_due(app)
    mail_clock.advance(5 * 86400)
    send_due(app)
    send_due(app)
    assert len(smtp.messages) == 2 and smtp.messages[1][2]["Subject"].startswith("A quick reminder")
    assert db.session.scalars(select(ReviewRequest.status)).one() == "reminded"
