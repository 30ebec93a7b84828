"""The e-mail outbox's job and scheduler step.

`schedule_messages(app)` (a scheduler step): return expired leases, claim due
messages and enqueue one `send_message(message_id, attempt, store_id)` job each (ids
only). A lost enqueue (Redis away) costs one lease: the row is claimed again
when it expires. `send_message` renders and sends through the configured
channel (app/messaging/channels.py) and records the outcome.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Flask

from app.extensions import db
from app.messaging.channels import channel_from_config
from app.messaging.models import FAILED, QUEUED, Message
from app.messaging.outbox import claim_due, deliver, release_expired
from app.platform.jobs import job_app
from app.platform.metrics import outbox_failed, outbox_retried
from app.platform.queue import get_queue
from app.platform.sql import job_store_id
from app.platform.types import utcnow

log = logging.getLogger(__name__)
JOB = "app.messaging.tasks.send_message"


def mail_now(app: Flask) -> datetime:
    clock = app.config.get("MAIL_CLOCK")
    return clock() if clock else utcnow()


def send_message(message_id: int, attempt: int | None = None, store_id: int | None = None) -> str:
    """`store_id` is None for a job queued before jobs carried it: looked up once (platform/sql.job_store_id), so
    the jobs of the old shape still in Redis after the deploy are sent."""
    app = job_app()
    with app.app_context():
        try:
            store_id = job_store_id(db.session, Message, message_id, store_id)
            if store_id is None:
                return "skipped"
            channel = channel_from_config(app.config)
            now = mail_now(app)
            outcome = deliver(db.session, message_id, store_id, attempt, channel=channel, config=app.config, now=now)
            if outcome in (FAILED, QUEUED):  # given up on, or put back with a backoff
                (outbox_failed if outcome == FAILED else outbox_retried)("message")
            return outcome
        finally:
            db.session.remove()


def schedule_messages(app: Flask) -> dict[str, int]:
    with app.app_context():
        try:
            now = mail_now(app)
            released = release_expired(db.session, now)
            lease = timedelta(seconds=app.config["MAIL_LEASE_SECONDS"])
            claimed = claim_due(db.session, now=now, limit=app.config["MAIL_BATCH_SIZE"], lease=lease)
            queue = get_queue()
            for message_id, attempt, store_id in claimed:
                queue.enqueue(JOB, message_id, attempt, store_id, job_id=f"message-{message_id}-{attempt}")
            if claimed or released:
                log.info("messaging.scheduled", extra={"claimed": len(claimed), "released": released})
            return {"claimed": len(claimed), "released": released}
        finally:
            db.session.remove()
