"""Review requests: the scheduler step that claims due requests and reminders, and the job that sends one.

`schedule_review_requests(app)` claims due rows with a lease (REVIEW_LEASE_SECONDS) and enqueues
`send_review_request(request_id, attempt)`. A worker killed between the claim and the send leaves the lease
to expire; the row is claimed again with a new attempt number, and the first job, if it ever runs, sees
a newer attempt and does nothing. The message itself is enqueued with dedupe key `review_request:<id>`
(`review_reminder:<id>`), so even two jobs that both got through would write one outbox row.
The clock is MAIL_CLOCK (tests), else the wall clock: one injectable clock for the whole send path.
Before the message is built, records/catalog_tasks.refresh_request_products fetches the order's products that the
cache lacks (images and links for the e-mail); a store that cannot answer leaves the e-mail without images.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask

from app.extensions import db
from app.messaging.tasks import mail_now
from app.platform.jobs import job_app
from app.platform.queue import get_queue
from app.records.catalog_tasks import refresh_request_products
from app.reviews.requests import claim_due, send_request

log = logging.getLogger(__name__)
JOB = "app.reviews.tasks.send_review_request"


def send_review_request(request_id: int, attempt: int | None = None) -> str:
    app = job_app()
    with app.app_context():
        try:
            now = mail_now(app)
            refresh_request_products(request_id, attempt, now)  # HTTP to the store, before the message is built
            outcome = send_request(db.session, request_id, attempt, now)
            db.session.commit()
            return outcome
        finally:
            db.session.remove()


def schedule_review_requests(app: Flask) -> dict[str, int]:
    with app.app_context():
        try:
            lease = timedelta(seconds=app.config.get("REVIEW_LEASE_SECONDS", 300))
            limit = app.config.get("REVIEW_BATCH_SIZE", 100)
            claimed = claim_due(db.session, now=mail_now(app), limit=limit, lease=lease)
            queue = get_queue()
            for request_id, attempt in claimed:
                queue.enqueue(JOB, request_id, attempt, job_id=f"review-request-{request_id}-{attempt}")
            if claimed:
                log.info("reviews.scheduled", extra={"claimed": len(claimed)})
            return {"claimed": len(claimed)}
        finally:
            db.session.remove()
