"""The scheduler: one process, one tick every SCHEDULER_INTERVAL_SECONDS.

A tick sweeps the inbox (expired leases back to pending; overdue deliveries
re-enqueued, which is how webhooks accepted while Redis was down get
processed) and the compliance requests; then per-store upkeep runs
(WooCommerce webhook health and order reconciliation, loyalty points
becoming spendable and expiring), redemptions due a (re)try and stores with
balances to write back (loyalty/redemption_tasks.py), and the e-mail outbox claims due
messages (messaging/tasks.py). Review requests and reminders are claimed by
reviews/tasks.py; rows of reviews to write back to the stores by
reviews/publishing_tasks.py. Later features add their due-row claims here.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from flask import Flask

from app.compliance.tasks import sweep as compliance_sweep
from app.extensions import db
from app.inbox.ingest import kick_processing
from app.inbox.processing import overdue_count, release_expired_leases
from app.loyalty import redemption_tasks as redemptions
from app.loyalty import tasks as loyalty
from app.messaging.tasks import schedule_messages
from app.referrals import tasks as referrals
from app.reviews.publishing_tasks import schedule_review_publishing
from app.reviews.tasks import schedule_review_requests
from app.stores import woo_maintenance

log = logging.getLogger(__name__)


def tick(app: Flask) -> dict[str, int]:
    with app.app_context():
        try:
            released = release_expired_leases(db.session)
            overdue = overdue_count(db.session, timedelta(seconds=app.config["SWEEP_AFTER_SECONDS"]))
            kicked = 0
            if overdue or released:
                kicked = int(kick_processing(force=True))
            compliance_sweep()  # adopts deliveries parked as "deferred", enqueues due requests
            if overdue or released:
                log.info("scheduler.swept", extra={"overdue": overdue, "released": released, "kicked": kicked})
            return {"released": released, "overdue": overdue, "kicked": kicked}
        finally:
            db.session.remove()


def maintain_stores(app: Flask) -> None:
    """Enqueue per-store upkeep that is due (WooCommerce webhook health, order reconciliation)."""
    woo_maintenance.tick(app)


def run_forever(app: Flask, once: bool = False) -> None:
    interval = app.config["SCHEDULER_INTERVAL_SECONDS"]
    while True:
        started = time.monotonic()
        # Separate steps, so one failing (a store's API down) never starves the others. Review requests
        # before messages: their jobs write the outbox rows schedule_messages delivers.
        for step in (
            tick,
            maintain_stores,
            loyalty.tick,
            redemptions.tick,
            referrals.tick,
            schedule_review_requests,
            schedule_messages,
            schedule_review_publishing,
        ):
            try:
                step(app)
            except Exception:  # a step must never kill the loop (DB restarting, Redis away, a store down)
                log.exception("scheduler.tick_failed", extra={"step": step.__name__})
        if once:
            return
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
