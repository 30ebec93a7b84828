"""Jobs that turn a redemption into a discount code at the store, and the scheduler step that keeps them moving.

issue_discount(redemption_id, store_id=...): reads the redemption within its store, builds the DiscountSpec (single
use, that customer only, expiry from settings) and calls the store's client
(app/stores/clients.client_for(store).create_discount), which looks the code up before creating it, so a retry (a
lost answer, a crash after the create) never makes a second code. Outcomes:
- created or found: `issued`;
- RateLimited: next attempt after the wait it carries (Shopify's cost throttle or Retry-After), at most
  REDEMPTION_MAX_RETRY_WAIT_SECONDS;
- StoreUnavailable (5xx, timeout): exponential backoff from REDEMPTION_RETRY_BASE_SECONDS;
- a permanent refusal (UserErrors, AccessDenied, a 4xx, the store uninstalled) or REDEMPTION_MAX_ATTEMPTS reached:
  `failed`, and the held points go back (release_hold, once).
Retries are rows, not RQ retries: the job records next_attempt_at and tick() re-enqueues due pending rows (with
their store ids), which also covers an enqueue lost after redeem's commit or a worker that died mid-job (the lease
passes).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from redis.exceptions import RedisError
from sqlalchemy import select

from app.extensions import db
from app.loyalty import redemptions as service
from app.loyalty.models import Redemption
from app.platform.jobs import job_app
from app.platform.logs import reason
from app.platform.metrics import outbox_failed, outbox_retried
from app.platform.outbox import backoff
from app.platform.queue import get_queue
from app.platform.sql import get_in_store, job_store_id, reread_in_store
from app.platform.types import utcnow
from app.records.models import Customer
from app.stores.clients import NotConnected, client_for
from app.stores.models import Store
from connectors.exceptions import ConnectorError, RateLimited, StoreUnavailable
from connectors.writeback import CreatedDiscount

log = logging.getLogger(__name__)


def enqueue_issue(redemption_id: int, store_id: int) -> bool:
    """After the redeem transaction committed. False if Redis is away: the scheduler enqueues it later."""
    try:
        get_queue().enqueue(
            issue_discount, redemption_id, store_id=store_id, job_timeout=120, result_ttl=3600, failure_ttl=86400
        )
        return True
    except RedisError as exc:
        log.warning("loyalty.redemption_enqueue_failed", extra={"redemption_id": redemption_id, "reason": reason(exc)})
        return False


def issue_discount(redemption_id: int, now: datetime | None = None, store_id: int | None = None) -> dict[str, Any]:
    """`store_id` is None for a job queued before jobs carried it (RQ keeps a job's arguments as enqueued): looked
    up once by the redemption's id (platform/sql.job_store_id)."""
    with job_app().app_context():
        try:
            store_id = job_store_id(db.session, Redemption, redemption_id, store_id)
            if store_id is None:
                return {"status": "unknown"}  # erased meanwhile (the store's data deleted)
            return _issue(redemption_id, store_id, now or utcnow())
        finally:
            db.session.remove()


def _current(redemption_id: int, store_id: int) -> Redemption | None:
    """The row as the database has it now, named by its store (the session's copy is expired by the commit before
    the HTTP call: its refresh would read it by id alone)."""
    stmt = select(Redemption).where(Redemption.id == redemption_id, Redemption.store_id == store_id)
    return db.session.scalar(stmt.execution_options(populate_existing=True))


def _issue(redemption_id: int, store_id: int, now: datetime) -> dict[str, Any]:
    cfg = current_app.config
    redemption = get_in_store(db.session, Redemption, redemption_id, store_id)
    if redemption is None or redemption.status != "pending":
        return {"status": redemption.status if redemption else "unknown"}
    store = db.session.get(Store, store_id)
    customer = get_in_store(db.session, Customer, redemption.customer_id, store_id)
    assert store is not None and customer is not None
    # Count the attempt (and hold the lease) before calling out: a crash mid-call still counts.
    redemption.attempts += 1
    redemption.next_attempt_at = now + service.ENQUEUE_LEASE
    attempts = redemption.attempts
    db.session.commit()
    # The commit expired both rows: re-read within the store (their refresh would read each by its id alone).
    redemption = reread_in_store(db.session, Redemption, redemption_id, store_id)
    customer = reread_in_store(db.session, Customer, redemption.customer_id, store_id)
    error: str | None = None
    wait: timedelta | None = None
    created: CreatedDiscount | None = None
    try:
        spec = service.discount_spec(store, redemption, customer)
        client = client_for(store)
        db.session.commit()  # no transaction held open across the HTTP call
        created = client.create_discount(spec)
    except RateLimited as exc:
        error = f"RateLimited: {exc}"
        wait = timedelta(seconds=min(float(exc.retry_after), float(cfg["REDEMPTION_MAX_RETRY_WAIT_SECONDS"])))
    except StoreUnavailable as exc:
        error = f"StoreUnavailable: {exc}"
        wait = backoff(
            attempts, float(cfg["REDEMPTION_RETRY_BASE_SECONDS"]), float(cfg["REDEMPTION_MAX_RETRY_WAIT_SECONDS"])
        )
    except (ConnectorError, NotConnected, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"  # permanent: retrying the same input gets the same answer
    redemption = _current(redemption_id, store_id)
    if redemption is None or redemption.status != "pending":
        return {"status": redemption.status if redemption else "unknown"}  # uninstalled meanwhile
    store = db.session.get_one(Store, store_id)  # the FK cascades: a redemption's store exists
    if created is not None:
        service.mark_issued(redemption, created.platform_id, now)
        db.session.commit()
        log.info(
            "loyalty.redemption_issued",
            extra={"store_id": store.id, "redemption_id": redemption_id, "created_on_platform": created.created},
        )
        return {"status": "issued", "created_on_platform": created.created}
    assert error is not None
    if wait is None or attempts >= int(cfg["REDEMPTION_MAX_ATTEMPTS"]):
        service.fail(db.session, store, redemption, error, now)
        db.session.commit()
        outbox_failed("redemption")
        return {"status": "failed", "error": error.split(":", 1)[0]}
    redemption.last_error, redemption.next_attempt_at = error[:2000], now + wait
    db.session.commit()
    outbox_retried("redemption")
    log.info("loyalty.redemption_retry", extra={"redemption_id": redemption_id, "wait": wait.total_seconds()})
    return {"status": "pending", "retry_in": wait.total_seconds()}


def tick(app: Flask, now: datetime | None = None) -> dict[str, int]:
    """Scheduler step: re-enqueue due pending redemptions, and the balance push of stores with due rows."""
    from app.loyalty.writeback import stores_due
    from app.loyalty.writeback_tasks import enqueue_push

    now = now or utcnow()
    with app.app_context():
        try:
            due = service.due_pending(db.session, now)
            db.session.commit()
            enqueued = sum(1 for redemption_id, store_id in due if enqueue_issue(redemption_id, store_id))
            pushes = sum(1 for store_id in stores_due(db.session, now) if enqueue_push(store_id))
            db.session.commit()
            return {"redemptions": enqueued, "pushes": pushes}
        finally:
            db.session.remove()
