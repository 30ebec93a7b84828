"""The campaigns' jobs and their scheduler step (docs/campaigns.md, "Runs").

tick(app), each scheduler pass: starts due runs; claims fanning runs, pending batches and coupon sends whose lease
passed (app/platform/outbox.claim_due, pending batches and coupon sends through outbox_jobs.claim_and_enqueue:
FOR UPDATE SKIP LOCKED, a lease, `attempts + 1`) and enqueues their jobs;
marks runs done when their last batch is. A job lost with Redis or a killed worker is picked up again once its
lease passes; a duplicated one does nothing twice (the cursor's compare-and-set, the send rows' unique key).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import exists, update

from app.campaigns import coupons, runs, sending
from app.campaigns.models import (
    COUPON_PENDING,
    DONE,
    FANNED,
    FANNING,
    PENDING,
    CampaignBatch,
    CampaignRun,
    CampaignSend,
)
from app.extensions import db
from app.messaging.api import mail_now
from app.platform.jobs import job_app
from app.platform.outbox import claim_due
from app.platform.outbox_jobs import claim_and_enqueue, enqueue_row
from app.platform.sql import job_store_id
from app.stores.models import Store

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)
CLAIM = 200
JOB_TIMEOUT, ENQUEUE_FAILED = 600, "campaigns.enqueue_failed"
JOBS = {"fan_out": "app.campaigns.tasks.fan_out", "batch": "app.campaigns.tasks.send_batch",
        "coupon": "app.campaigns.tasks.create_coupon"}  # fmt: skip


def enqueue(kind: str, row_id: int, attempt: int | None, store_id: int) -> bool:
    return enqueue_row(JOBS[kind], row_id, attempt, store_id, job_timeout=JOB_TIMEOUT, event=ENQUEUE_FAILED)


# Each job's `store_id` is None when it was queued before jobs carried their store: looked up once by the row's id
# (platform/sql.job_store_id), so the jobs of the old shape still in Redis after the deploy run.


def fan_out(run_id: int, attempt: int | None = None, store_id: int | None = None) -> dict[str, int]:
    """PAGES_PER_JOB pages of the run's audience into batches (each enqueued), then a fresh job for the rest."""
    app = job_app()
    with app.app_context():
        try:
            store_id = job_store_id(db.session, CampaignRun, run_id, store_id)
            if store_id is None:
                return {"batches": 0, "finished": 0}
            written = 0
            for _ in range(runs.PAGES_PER_JOB):
                outcome, batch_id = runs.fan_out_step(db.session, run_id, store_id)
                if outcome != "batch" or batch_id is None:
                    return {"batches": written, "finished": int(outcome == "done")}
                written += 1
                enqueue("batch", batch_id, None, store_id)
            enqueue("fan_out", run_id, None, store_id)
            return {"batches": written, "finished": 0}
        finally:
            db.session.remove()


def send_batch(batch_id: int, attempt: int | None = None, store_id: int | None = None) -> dict[str, int]:
    app = job_app()
    with app.app_context():
        try:
            store_id = job_store_id(db.session, CampaignBatch, batch_id, store_id)
            if store_id is None:
                return {}
            counts, coupon_ids = sending.send_batch(db.session, batch_id, store_id, attempt, mail_now(app))
            db.session.commit()
            for send_id in coupon_ids:
                enqueue("coupon", send_id, None, store_id)
            return counts
        finally:
            db.session.remove()


def create_coupon(send_id: int, attempt: int | None = None, store_id: int | None = None) -> dict[str, Any]:
    app = job_app()
    with app.app_context():
        try:
            store_id = job_store_id(db.session, CampaignSend, send_id, store_id)
            if store_id is None:
                return {"status": "unknown"}
            return coupons.create_coupon(db.session, send_id, store_id, attempt, mail_now(app))
        finally:
            db.session.remove()


def tick(app: Flask) -> dict[str, int]:
    with app.app_context():
        try:
            now = mail_now(app)
            started = runs.start_due(db.session, now)
            db.session.commit()
            totals = {"runs_started": len(started), "fan_out": 0, "batches": 0, "coupons": 0}
            active = (Store, Store.id == CampaignRun.store_id)
            for run_id, attempt, store_id in claim_due(db.session, CampaignRun, now=now, limit=CLAIM, lease=LEASE,
                    where=[CampaignRun.status == FANNING, Store.status == "active",
                           CampaignRun.locked_until.is_(None) | (CampaignRun.locked_until <= now)],
                    order_by=[CampaignRun.id], join=active):  # fmt: skip
                assert store_id is not None  # campaign_runs.store_id is not null
                totals["fan_out"] += enqueue("fan_out", run_id, attempt, store_id)
            totals["batches"] = _claim("batch", CampaignBatch, PENDING, CampaignBatch.id, now)
            totals["coupons"] = _claim("coupon", CampaignSend, COUPON_PENDING, CampaignSend.next_attempt_at, now)
            open_batches = exists().where(CampaignBatch.run_id == CampaignRun.id, CampaignBatch.status == PENDING)
            closing = update(CampaignRun).where(CampaignRun.status == FANNED, ~open_batches)
            closing = closing.values(status=DONE, finished_at=now)
            db.session.execute(closing.execution_options(synchronize_session=False))
            db.session.commit()
            return totals
        finally:
            db.session.remove()


def _claim(kind: str, model: type[Any], status: str, order: Any, now: datetime) -> int:
    """Claim `model`'s due rows in `status` (pending batches, coupon sends to retry) and enqueue `kind`'s job."""
    return claim_and_enqueue(db.session, model, job=JOBS[kind], statuses=[status], order_by=[order], now=now,
                             lease=LEASE, limit=CLAIM, job_timeout=JOB_TIMEOUT, event=ENQUEUE_FAILED)  # fmt: skip
