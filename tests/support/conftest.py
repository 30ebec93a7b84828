"""Shared by the support tests: a delivered order's review e-mail (its star and get-help links), the admin token,
and one scheduler tick with the send jobs run here (as an rq worker would)."""

from __future__ import annotations

import json
from urllib.parse import urlparse

from sqlalchemy import select

from app.extensions import db
from app.messaging.models import Message
from tests.reviews.conftest import carrier, fulfillment, order, post


def review_links(app, client, mail_clock, order_id: int = 9001) -> tuple[str, list[str]]:
    """(get-help path, star paths: product 111 then 222) of the order's review e-mail, once it is queued."""
    from app.reviews.tasks import schedule_review_requests
    from tests.messaging.test_messaging import run_jobs

    post(app, client, "orders/create", order(order_id))
    post(app, client, "fulfillments/create", fulfillment(order_id, order_id, mail_clock.now))
    post(app, client, "fulfillment_events/create", carrier(order_id, order_id, mail_clock.now))
    mail_clock.advance(7 * 86400)
    schedule_review_requests(app)
    run_jobs(app)
    db.session.expire_all()
    message = db.session.scalars(
        select(Message).where(Message.dedupe_key.like("review_request:%")).order_by(Message.id.desc())
    ).first()
    stars = [urlparse(u).path for p in message.context["products"] for u in p["star_urls"]]
    return urlparse(message.context["help_url"]).path, stars


def admin_headers(app, store) -> dict[str, str]:
    answer = app.test_cli_runner().invoke(args=["stores", "admin-token", str(store.id)])
    return {"Authorization": f"Bearer {json.loads(answer.output)['token']}"}


def tick(app) -> None:
    """One scheduler tick (every registered step, in its phases), then the jobs it queued."""
    from app import scheduler
    from tests.messaging.test_messaging import run_jobs

    scheduler.run_forever(app, once=True)
    run_jobs(app)
    db.session.expire_all()
