"""Review requests: the scheduler step that claims due requests and reminders, and the job that sends one.

`schedule_review_requests(app)` claims due rows with a lease (REVIEW_LEASE_SECONDS) and enqueues
`send_review_request(request_id, attempt, store_id)`. A worker killed between the claim and the send leaves the lease
to expire; the row is claimed again with a new attempt number, and the first job, if it ever runs, sees
a newer attempt and does nothing. The message itself is enqueued with dedupe key `review_request:<id>`
(`review_reminder:<id>`), so even two jobs that both got through would write one outbox row.
The clock is MAIL_CLOCK (tests), else the wall clock: one injectable clock for the whole send path.
Before the message is built, refresh_request_products hands the order's products to
records/catalog_tasks.refresh_products, which fetches those the cache lacks (images and links for the e-mail); a
store that cannot answer leaves the e-mail without images.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import select

from app.extensions import db
from app.messaging.api import mail_now
from app.platform.jobs import job_app
from app.platform.queue import get_queue
from app.platform.sql import get_in_store, job_store_id
from app.records.catalog import order_product_ids
from app.records.catalog_tasks import refresh_products
from app.records.models import Order
from app.reviews.models import ReviewRequest
from app.reviews.models.review import SCHEDULED, SENT
from app.reviews.requests import claim_due, send_request
from app.stores.models import Store

log = logging.getLogger(__name__)
JOB = "app.reviews.tasks.send_review_request"
LIVE = (SCHEDULED, SENT)  # a first send, or its reminder


def send_review_request(request_id: int, attempt: int | None = None, store_id: int | None = None) -> str:
    """`store_id` is None for a job queued before jobs carried it: looked up once (platform/sql.job_store_id), so
    the jobs of the old shape still in Redis after the deploy run."""
    app = job_app()
    with app.app_context():
        try:
            now = mail_now(app)
            store_id = job_store_id(db.session, ReviewRequest, request_id, store_id)
            if store_id is None:
                return "missing"
            refresh_request_products(request_id, store_id, attempt, now)  # HTTP to the store, before the message
            outcome = send_request(db.session, request_id, store_id, attempt, now)
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
            for request_id, attempt, store_id in claimed:
                queue.enqueue(JOB, request_id, attempt, store_id, job_id=f"review-request-{request_id}-{attempt}")
            if claimed:
                log.info("reviews.scheduled", extra={"claimed": len(claimed)})
            return {"claimed": len(claimed)}
        finally:
            db.session.remove()


def refresh_request_products(request_id: int, store_id: int, attempt: int | None, now: datetime) -> str:
    """fetched | cached | unavailable | skipped. Commits (or rolls back) what it read; run in an app context."""
    if not current_app.config.get("CATALOG_FETCH", True):
        return "skipped"
    request = get_in_store(db.session, ReviewRequest, request_id, store_id)
    if request is None or (attempt is not None and request.attempts != attempt) or request.status not in LIVE:
        db.session.rollback()
        return "skipped"  # send_request decides what happens to it; nothing worth fetching for
    store = db.session.get(Store, request.store_id)
    order = db.session.scalar(
        select(Order).where(Order.store_id == request.store_id, Order.platform_id == request.order_platform_id)
    )
    if store is None or store.status != "active" or order is None:
        db.session.rollback()
        return "skipped"
    return refresh_products(db.session, store, order_product_ids(order), now, log_extra={"request_id": request_id})
