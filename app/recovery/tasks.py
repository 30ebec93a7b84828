"""The coupon of a case, created and taken back through the store's client, and the scheduler step that moves them.

tick(app): claims due `pending` and `reversing` cases of active stores (app/platform/outbox_jobs.py over
outbox.claim_due: FOR UPDATE SKIP LOCKED and a lease, `attempts + 1`) and enqueues
`work_case(case_id, attempt, store_id)`; a job whose attempt is no longer the row's does nothing, so a worker
killed after its claim leads to one call at most per lease.
work_case: `pending` -> client_for(store).create_discount (the code was drawn when the case opened and the
connectors look it up first: a retry after a lost answer never makes a second coupon), then `issued` and the
apology queued on the customer's channel (send_to_customer, dedupe key `recovery:<id>:apology`); `reversing` ->
delete_discount, then `reversed`. The call and its outcome are app/stores/discount_calls.py's (the surprises' codes
use it too): no transaction is held during the HTTP call, RateLimited waits what the store said, StoreUnavailable
backs off (platform/outbox.backoff); a refusal, a store we cannot call or MAX_ATTEMPTS is
`failed`, with the reason for the merchant (the admin API). A case reversed while its coupon was being created
keeps the coupon's id and is moved to `reversing`, so the coupon made in that window is deleted too.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Flask

from app.extensions import db
from app.messaging.api import mail_now, send_to_customer
from app.platform.jobs import job_app
from app.platform.outbox_jobs import claim_and_enqueue
from app.platform.sql import get_in_store, get_one_in_store, job_store_id
from app.records.models import Customer
from app.recovery.models import DUE, FAILED, ISSUED, PENDING, REVERSED, REVERSING, RecoveryCase
from app.recovery.service import coupon_text
from app.stores.discount_calls import discount_call
from app.stores.models import Store
from connectors.writeback import DiscountSpec

log = logging.getLogger(__name__)
JOB = "app.recovery.tasks.work_case"
LEASE = timedelta(seconds=120)
MAX_ATTEMPTS = 8
RETRY_BASE_SECONDS, RETRY_MAX_SECONDS = 30.0, 3600.0


def tick(app: Flask) -> dict[str, int]:
    with app.app_context():
        try:
            now = mail_now(app)
            enqueued = claim_and_enqueue(
                db.session,
                RecoveryCase,
                job=JOB,
                statuses=DUE,
                now=now,
                lease=LEASE,
                job_timeout=120,
                event="recovery.enqueue_failed",
                where=[Store.status == "active"],
                join=(Store, Store.id == RecoveryCase.store_id),
            )
            return {"recovery_cases": enqueued}
        finally:
            db.session.remove()


def work_case(case_id: int, attempt: int | None = None, store_id: int | None = None) -> dict[str, Any]:
    """`store_id` is None for a job queued before jobs carried it: looked up once (platform/sql.job_store_id)."""
    app = job_app()
    with app.app_context():
        try:
            store_id = job_store_id(db.session, RecoveryCase, case_id, store_id)
            if store_id is None:
                return {"status": "unknown"}
            return _work(case_id, attempt, store_id, mail_now(app))
        finally:
            db.session.remove()


def discount_spec(store: Store, case: RecoveryCase, customer: Customer | None) -> DiscountSpec:
    """Single use, once per customer, for that customer where the platform can say so (as loyalty's codes)."""
    shopify = store.platform == "shopify"
    return DiscountSpec(
        code=case.code,
        title=f"Apology for order {case.order_name or case.order_platform_id} ({case.code})",
        kind="percentage" if case.coupon_kind == "percentage" else "fixed_amount",
        value=case.coupon_value,
        currency=case.currency,
        customer_platform_id=customer.platform_id if shopify and customer else None,
        customer_email=None if shopify or customer is None else customer.email,
        usage_limit=1,
        once_per_customer=True,
        starts_at=case.created_at,
        ends_at=case.expires_at,
    )


def _work(case_id: int, attempt: int | None, store_id: int, now: datetime) -> dict[str, Any]:
    case = get_in_store(db.session, RecoveryCase, case_id, store_id)
    if case is None or case.status not in DUE or (attempt is not None and case.attempts != attempt):
        return {"status": case.status if case else "unknown"}
    store = db.session.get_one(Store, case.store_id)
    creating = case.status == PENDING
    customer = get_in_store(db.session, Customer, case.customer_id, case.store_id) if case.customer_id else None
    attempts, held = case.attempts, case
    outcome = discount_call(
        db.session,
        store,
        create=(lambda: discount_spec(store, held, customer)) if creating else None,
        delete_id=case.coupon_platform_id,
        attempts=attempts,
        base_seconds=RETRY_BASE_SECONDS,
        max_seconds=RETRY_MAX_SECONDS,
    )
    error, wait, done = outcome.error, outcome.wait, outcome.platform_id
    case = get_one_in_store(db.session, RecoveryCase, case_id, store_id)
    if done is not None:
        return _succeeded(store, case, customer, done, creating, now)
    assert error is not None
    if case.status != (PENDING if creating else REVERSING):  # reversed meanwhile: its own state stands
        db.session.commit()
        return {"status": case.status}
    if wait is None or attempts >= MAX_ATTEMPTS:
        case.status, case.last_error, case.locked_until = FAILED, error[:500], None
        log.warning("recovery.failed", extra={"store_id": store.id, "case_id": case.id, "reason": error[:200]})
    else:
        case.last_error, case.next_attempt_at, case.locked_until = error[:500], now + wait, None
    db.session.commit()
    return {"status": case.status, "error": error.split(":", 1)[0]}


def _succeeded(
    store: Store, case: RecoveryCase, customer: Customer | None, platform_id: str, creating: bool, now: datetime
) -> dict[str, Any]:
    case.last_error, case.locked_until = None, None
    if not creating:
        case.status, case.reversed_at = REVERSED, now
        log.info("recovery.reversed", extra={"store_id": store.id, "case_id": case.id})
    elif case.status == PENDING:
        case.status, case.coupon_platform_id, case.issued_at = ISSUED, platform_id, now
        if customer is not None:
            send_to_customer(
                db.session,
                store,
                customer_id=customer.id,
                template="recovery_apology",
                context=apology_context(case, customer),
                dedupe_key=f"recovery:{case.id}:apology",
                purpose="transactional",
                urgent=False,  # held through the store's quiet hours; never capped: it carries the coupon
            )
        log.info("recovery.issued", extra={"store_id": store.id, "case_id": case.id})
    else:  # reversed while the coupon was being made: the coupon exists now, so it is taken back
        case.status, case.coupon_platform_id, case.next_attempt_at, case.reversed_at = REVERSING, platform_id, now, None
    db.session.commit()
    return {"status": case.status}


def apology_context(case: RecoveryCase, customer: Customer) -> dict[str, Any]:
    """The apology's context (templates/recovery_apology.html)."""
    return {
        "first_name": customer.first_name,
        "order_name": case.order_name or case.order_platform_id,
        "reason": case.reason,
        "code": case.code,
        "discount": coupon_text(case),
        "expires_at": case.expires_at.date().isoformat() if case.expires_at else None,
    }
