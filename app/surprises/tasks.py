"""A surprise delivered and taken back, and the scheduler step that moves them (docs/surprises.md#delivery).

tick(app): claims due `pending` and `reversing` surprises of active stores (app/platform/outbox_jobs.py over
outbox.claim_due: FOR UPDATE SKIP LOCKED and a lease, `attempts + 1`) and enqueues
`work_surprise(id, attempt, store_id)`; a job whose attempt is no longer the row's does nothing.
work_surprise: a code (percentage, fixed amount, free shipping) is created in the store through the call recovery's
coupon uses (app/stores/discount_calls.py: the code drawn with the row is the idempotency key, the connectors look
it up first and read back what the store stored), then `issued` and the message queued on the customer's channel
(messaging's send_to_customer: consent, quiet hours, the daily cap; dedupe key `surprise:<id>:ready`). Points are
credited through the loyalty ledger (`surprise:<id>:points`, once by its key). `reversing` deletes the code
(delete_discount) or writes the points' reversal (`surprise:<id>:reverse`), then `reversed`.
Every final write is a conditional UPDATE on the status the job started from: a surprise taken back while its
code was being made keeps the code's id and goes to `reversing`, so that code is deleted too.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import update

from app.extensions import db
from app.loyalty.api import credit_points, reverse_credit
from app.messaging.api import MARKETING, mail_now, send_to_customer
from app.platform.jobs import job_app
from app.platform.outbox_jobs import claim_and_enqueue
from app.platform.sql import get_in_store, job_store_id, reread_in_store
from app.records.models import Customer
from app.stores.discount_calls import discount_call
from app.stores.models import Store
from app.surprises.models import DUE, FAILED, ISSUED, PENDING, REVERSED, REVERSING, Surprise
from app.surprises.service import message_prefix, reward_text
from connectors.writeback import DiscountSpec

log = logging.getLogger(__name__)
JOB = "app.surprises.tasks.work_surprise"
LEASE = timedelta(seconds=120)
MAX_ATTEMPTS = 8
RETRY_BASE_SECONDS, RETRY_MAX_SECONDS = 30.0, 3600.0
TEMPLATE = "surprise_ready"


def tick(app: Flask) -> dict[str, int]:
    with app.app_context():
        try:
            now = mail_now(app)
            enqueued = claim_and_enqueue(
                db.session,
                Surprise,
                job=JOB,
                statuses=DUE,
                now=now,
                lease=LEASE,
                job_timeout=120,
                event="surprises.enqueue_failed",
                where=[Store.status == "active"],
                join=(Store, Store.id == Surprise.store_id),
            )
            return {"surprises": enqueued}
        finally:
            db.session.remove()


def work_surprise(surprise_id: int, attempt: int | None = None, store_id: int | None = None) -> dict[str, Any]:
    """`store_id` is None for a job queued before jobs carried it: looked up once (platform/sql.job_store_id)."""
    app = job_app()
    with app.app_context():
        try:
            store_id = job_store_id(db.session, Surprise, surprise_id, store_id)
            if store_id is None:
                return {"status": "unknown"}
            return _work(surprise_id, attempt, store_id, mail_now(app))
        finally:
            db.session.remove()


def _moved(store_id: int, surprise_id: int, from_status: str, /, **values: Any) -> bool:
    """Set `values` if the row is still in `from_status` (the one this job started from)."""
    mine = (Surprise.store_id == store_id, Surprise.id == surprise_id)
    stmt = update(Surprise).where(*mine, Surprise.status == from_status).values(**values)
    return bool(db.session.execute(stmt, execution_options={"synchronize_session": False}).rowcount)  # type: ignore[attr-defined]


def _work(surprise_id: int, attempt: int | None, store_id: int, now: datetime) -> dict[str, Any]:
    surprise = get_in_store(db.session, Surprise, surprise_id, store_id)
    if surprise is None or surprise.status not in DUE or (attempt is not None and surprise.attempts != attempt):
        return {"status": surprise.status if surprise else "unknown"}
    store = db.session.get_one(Store, surprise.store_id)
    customer = get_in_store(db.session, Customer, surprise.customer_id, store.id) if surprise.customer_id else None
    if surprise.status == PENDING and customer is None:
        _moved(store.id, surprise_id, PENDING, status=FAILED, last_error="no customer", locked_until=None)
        db.session.commit()
        return {"status": FAILED}
    if surprise.kind == "points":
        return _points(store, surprise, customer, now)
    return _code(store, surprise, customer, now)


def _points(store: Store, surprise: Surprise, customer: Customer | None, now: datetime) -> dict[str, Any]:
    credit = f"surprise:{surprise.id}:points"
    if surprise.status == PENDING:
        if _moved(store.id, surprise.id, PENDING, status=ISSUED, issued_at=now, locked_until=None, last_error=None):
            assert customer is not None
            rule = {"surprise": surprise.id, "threshold": surprise.threshold, "order": surprise.order_platform_id}
            credit_points(db.session, store, customer.id, source_key=credit, points=surprise.points, rule=rule, now=now)
            reread_in_store(db.session, Surprise, surprise.id, store.id)
            _tell(store, surprise, customer)
    elif _moved(store.id, surprise.id, REVERSING, status=REVERSED, reversed_at=now, locked_until=None, last_error=None):
        reverse_credit(db.session, store, credit_key=credit, source_key=f"surprise:{surprise.id}:reverse", now=now)
    db.session.commit()
    found = reread_in_store(db.session, Surprise, surprise.id, store.id)
    log.info("surprises.points", extra={"store_id": store.id, "surprise_id": found.id, "status": found.status})
    return {"status": found.status}


def discount_spec(store: Store, surprise: Surprise, customer: Customer | None) -> DiscountSpec:
    """Single use, once per customer, for that customer where the platform can say so (as recovery's coupons)."""
    assert surprise.code is not None
    shopify = store.platform == "shopify"
    return DiscountSpec(
        code=surprise.code,
        title=f"Surprise for order {surprise.order_name or surprise.order_platform_id} ({surprise.code})",
        kind=surprise.kind,  # type: ignore[arg-type]  # one of models.CODED, checked by the settings
        value=surprise.value,
        currency=surprise.currency,
        customer_platform_id=customer.platform_id if shopify and customer else None,
        customer_email=None if shopify or customer is None else customer.email,
        usage_limit=1,
        once_per_customer=True,
        starts_at=surprise.created_at,
        ends_at=surprise.expires_at,
    )


def _code(store: Store, surprise: Surprise, customer: Customer | None, now: datetime) -> dict[str, Any]:
    started, attempts, known = surprise.status, surprise.attempts, surprise.code_platform_id
    # Taken back while a create may have been under way (the follower saw it tried): find the code first (the
    # create is lookup-first), then delete it on the next run.
    creating = started == PENDING or known is None
    outcome = discount_call(
        db.session,
        store,
        create=(lambda: discount_spec(store, surprise, customer)) if creating else None,
        delete_id=known,
        attempts=attempts,
        base_seconds=RETRY_BASE_SECONDS,
        max_seconds=RETRY_MAX_SECONDS,
    )
    if outcome.done:
        _succeeded(store, surprise.id, started, creating, outcome.platform_id, now)
    else:
        error = (outcome.error or "")[:500]
        if outcome.wait is None or attempts >= MAX_ATTEMPTS:
            if _moved(store.id, surprise.id, started, status=FAILED, last_error=error, locked_until=None):
                log.warning("surprises.failed", extra={"store_id": store.id, "surprise_id": surprise.id,
                                                       "reason": error[:200]})  # fmt: skip
        else:
            _moved(
                store.id, surprise.id, started, last_error=error, next_attempt_at=now + outcome.wait, locked_until=None
            )
    db.session.commit()
    return {"status": reread_in_store(db.session, Surprise, surprise.id, store.id).status}


def _succeeded(
    store: Store, surprise_id: int, started: str, creating: bool, platform_id: str | None, now: datetime
) -> None:
    done = dict(locked_until=None, last_error=None)
    if not creating:
        _moved(store.id, surprise_id, REVERSING, status=REVERSED, reversed_at=now, **done)
        log.info("surprises.reversed", extra={"store_id": store.id, "surprise_id": surprise_id})
        return
    if started == PENDING and _moved(
        store.id, surprise_id, PENDING, status=ISSUED, code_platform_id=platform_id, issued_at=now, **done
    ):
        surprise = reread_in_store(db.session, Surprise, surprise_id, store.id)
        customer = get_in_store(db.session, Customer, surprise.customer_id, store.id) if surprise.customer_id else None
        if customer is not None:
            _tell(store, surprise, customer)
        log.info("surprises.issued", extra={"store_id": store.id, "surprise_id": surprise_id})
        return
    # Taken back meanwhile (or found while reversing): keep the code's id, so the next run deletes it.
    db.session.execute(
        update(Surprise)
        .where(Surprise.store_id == store.id, Surprise.id == surprise_id, Surprise.status.in_((REVERSING, REVERSED)))
        .values(status=REVERSING, code_platform_id=platform_id, next_attempt_at=now, reversed_at=None, **done),
        execution_options={"synchronize_session": False},
    )


def _tell(store: Store, surprise: Surprise, customer: Customer) -> None:
    send_to_customer(
        db.session,
        store,
        customer_id=customer.id,
        template=TEMPLATE,
        context=ready_context(surprise, customer),
        dedupe_key=f"{message_prefix(surprise)}ready",
        purpose=MARKETING,  # a gift that invites the next order: the customer's marketing consent decides
        capped=True,
        urgent=False,  # held through the store's quiet hours
    )


def ready_context(surprise: Surprise, customer: Customer) -> dict[str, Any]:
    """The message's context (templates/surprise_ready.html)."""
    return {
        "first_name": customer.first_name,
        "threshold": surprise.threshold,
        "kind": surprise.kind,
        "reward": reward_text(surprise),
        "points": surprise.points,
        "code": surprise.code,
        "expires_at": surprise.expires_at.date().isoformat() if surprise.expires_at else None,
    }
