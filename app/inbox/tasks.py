"""process_inbox: the drain job behind every webhook.

Kick protocol (see inbox/ingest.py): the web sets KICK_KEY with NX and
enqueues this job only when the key was absent. The job deletes the key
*before* its first claim, so a delivery committed after that claim finds the
key gone and queues a fresh job, and one committed before it is claimed here.
Nothing can fall between the two; what a lost enqueue leaves, the sweeper takes.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from app.extensions import db
from app.inbox.batch import process_batch
from app.inbox.ingest import KICK_KEY, kick_processing
from app.inbox.models import PROCESSING, WebhookDelivery
from app.inbox.processing import claim_batch
from app.platform.jobs import job_app
from app.platform.leases import kept_leased
from app.platform.metrics import deliveries_processed
from app.platform.queue import get_redis

log = logging.getLogger(__name__)


def process_inbox(max_seconds: float = 30.0) -> dict[str, int]:
    """Drain pending deliveries for up to max_seconds, then hand over to a new job."""
    app = job_app()
    with app.app_context():
        get_redis().delete(KICK_KEY)
        batch = app.config["INBOX_BATCH_SIZE"]
        lease = timedelta(seconds=app.config["INBOX_LEASE_SECONDS"])
        max_attempts = app.config["INBOX_MAX_ATTEMPTS"]
        counts: dict[str, int] = {}
        deadline = time.monotonic() + max_seconds
        try:
            while True:
                claimed = claim_batch(db.session, batch, lease)
                if not claimed:
                    break
                ids = [delivery_id for delivery_id, _, _ in claimed]
                # Renewed while the batch runs: a killed worker's rows are due again one lease after its last beat.
                with kept_leased(
                    db.engine, WebhookDelivery, ids, lease=lease, where=[WebhookDelivery.status == PROCESSING]
                ):
                    done = process_batch(db.session, claimed, max_attempts)
                deliveries_processed(done)  # per batch, so a long drain shows its rate as it goes
                for status, n in done.items():
                    counts[status] = counts.get(status, 0) + n
                if time.monotonic() > deadline:
                    kick_processing(force=True)  # more may remain: continue in a new job
                    break
        finally:
            db.session.remove()
        log.info("inbox.drained", extra={"counts": counts})
        return counts
