"""The e-mail outbox's job and scheduler step.

`schedule_messages(app)` (a scheduler step): return expired leases, claim due
messages and enqueue one `send_message(message_id, attempt)` job each (ids
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
from app.messaging.models import FAILED, QUEUED
from app.messaging.outbox import claim_due, deliver, release_expired
from app.platform.jobs import job_app
from app.platform.metrics import outbox_failed, outbox_retried
from app.platform.queue import get_queue
from app.platform.types import utcnow

log = logging.getLogger(__name__)
JOB = "app.messaging.tasks.send_message"


def mail_now(app: Flask) -> datetime:
    clock = app.config.get("MAIL_CLOCK")
    return clock() if clock else utcnow()


def send_message(message_id: int, attempt: int | None = None) -> str:
    app = job_app()
    with app.app_context():
        try:
            channel = channel_from_config(app.config)
            outcome = deliver(db.session, message_id, attempt, channel=channel, config=app.config, now=mail_now(app))
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
            for message_id, attempt in claimed:
                queue.enqueue(JOB, message_id, attempt, job_id=f"message-{message_id}-{attempt}")
            if claimed or released:
                log.info("messaging.scheduled", extra={"claimed": len(claimed), "released": released})
            return {"claimed": len(claimed), "released": released}
        finally:
            db.session.remove()
