"""The provider callbacks' scheduler step and job (the outbox pattern of tasks.py, for models.ProviderCallback).

`schedule_callbacks(app)`: returns expired leases, claims pending callbacks with a lease and enqueues one
`process_callback(id, attempt)` job each. The job applies it (callbacks.handle) and marks it done; an error
(a provider's price fetch timing out, a bug) puts it back with a backoff, and it is marked failed after
MAIL_MAX_ATTEMPTS, kept for a look. The job of an older attempt does nothing (its lease expired).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask
from sqlalchemy import or_, update

from app.extensions import db
from app.messaging.callbacks import handle
from app.messaging.models import ProviderCallback
from app.messaging.tasks import mail_now
from app.platform import outbox as platform_outbox
from app.platform.jobs import job_app
from app.platform.queue import get_queue

log = logging.getLogger(__name__)
JOB = "app.messaging.callback_tasks.process_callback"
PENDING, PROCESSING, DONE, FAILED = "pending", "processing", "done", "failed"


def process_callback(callback_id: int, attempt: int | None = None) -> str:
    app = job_app()
    with app.app_context():
        try:
            session = db.session
            row = session.get(ProviderCallback, callback_id)
            if row is None or row.status != PROCESSING or (attempt is not None and row.attempts != attempt):
                session.rollback()
                return "skipped"
            now = mail_now(app)
            try:
                handle(session, row, app.config, now)
                row.status, row.processed_at, row.locked_until, row.last_error = DONE, now, None, None
                session.commit()
                return DONE
            except Exception as exc:  # noqa: BLE001  (any failure is recorded on the row and retried)
                session.rollback()
                row = session.get(ProviderCallback, callback_id)
                if row is None:
                    return "skipped"
                give_up = row.attempts >= int(app.config["MAIL_MAX_ATTEMPTS"])
                row.status, row.locked_until = (FAILED if give_up else PENDING), None
                row.last_error = type(exc).__name__
                base = float(app.config["MAIL_RETRY_BASE_SECONDS"])
                row.next_attempt_at = now + platform_outbox.backoff(row.attempts, base, 6 * 3600)
                session.commit()
                log.warning(
                    "messaging.callback_failed", extra={"callback_id": callback_id, "reason": type(exc).__name__}
                )
                return row.status
        finally:
            db.session.remove()


def schedule_callbacks(app: Flask) -> dict[str, int]:
    with app.app_context():
        try:
            now = mail_now(app)
            session = db.session
            session.execute(
                update(ProviderCallback)
                .where(ProviderCallback.status == PROCESSING, ProviderCallback.locked_until < now)
                .values(status=PENDING, locked_until=None)
            )
            session.commit()
            claimed = platform_outbox.claim_due(
                session,
                ProviderCallback,
                now=now,
                limit=int(app.config["MAIL_BATCH_SIZE"]),
                lease=timedelta(seconds=app.config["MAIL_LEASE_SECONDS"]),
                where=[
                    ProviderCallback.status == PENDING,
                    or_(ProviderCallback.next_attempt_at.is_(None), ProviderCallback.next_attempt_at <= now),
                ],
                order_by=[ProviderCallback.id],
                values={"status": PROCESSING},
            )
            queue = get_queue()
            for callback_id, attempt, _ in claimed:  # provider_callbacks have no store yet (a worker finds it)
                queue.enqueue(JOB, callback_id, attempt, job_id=f"provider-callback-{callback_id}-{attempt}")
            return {"claimed": len(claimed)}
        finally:
            db.session.remove()
