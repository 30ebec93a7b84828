"""RQ job for privacy requests, and the scheduler's sweep that feeds it.

`run_compliance_request(request_id, store_id)` is what the inbox enqueues for each
customers/data_request, customers/redact and shop/redact; it is idempotent
(a completed request is left alone). `sweep()` is called from the scheduler
tick: it adopts deliveries parked as "deferred" before this feature existed
and enqueues pending requests whose enqueue was lost or whose retry is due.
`enqueue_request(request_id, store_id)` (queueing.py) is the one place a request is put on the RQ queue (services
record the row and call it after commit; they do not talk to Redis themselves).
"""

from __future__ import annotations

import logging

from flask import Flask

from app.compliance.models import COMPLETED, SHOP_REDACT
from app.compliance.models import ComplianceRequest as Request
from app.compliance.queueing import enqueue_request
from app.compliance.service import adopt_deferred, due_request_ids, run_request
from app.extensions import db
from app.platform.jobs import job_app
from app.platform.sql import get_in_store, job_store_id

log = logging.getLogger(__name__)


def run_compliance_request(request_id: int, store_id: int | None = None) -> str:
    """`store_id` is None for a job queued before jobs carried it: looked up once (platform/sql.job_store_id), so
    the jobs of the old shape still in Redis after the deploy run."""
    app = job_app()
    with app.app_context():
        try:
            store_id = job_store_id(db.session, Request, request_id, store_id)
            if store_id is None:
                return "missing"
            status = run_request(db.session, request_id, store_id)
            request = get_in_store(db.session, Request, request_id, store_id)
            if status == COMPLETED and request is not None and request.topic == SHOP_REDACT:
                from app.stores.cache import forget_store

                forget_store(request.platform, request.shop_domain)  # this process's cache of the deleted store
            return status
        finally:
            db.session.remove()


def sweep() -> dict[str, int]:
    """One scheduler pass (needs an app context): adopt deferred deliveries, enqueue due requests."""
    adopted = 0
    while True:
        count = adopt_deferred(db.session)
        adopted += count
        if count == 0:
            break
    ids = due_request_ids(db.session)
    enqueued = sum(1 for request_id, store_id in ids if enqueue_request(request_id, store_id))
    if adopted or ids:
        log.info("compliance.swept", extra={"adopted": adopted, "due": len(ids), "enqueued": enqueued})
    return {"adopted": adopted, "due": len(ids), "enqueued": enqueued}


def sweep_step(app: Flask) -> dict[str, int]:
    """The scheduler's intake step (after the inbox sweep): `sweep` in its own app context."""
    with app.app_context():
        try:
            return sweep()
        finally:
            db.session.remove()
