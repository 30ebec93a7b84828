"""Customer privacy requests: record them from the inbox, export a customer's data, erase it.

Shopify sends customers/data_request (give the merchant what we hold on a
customer), customers/redact (erase it) and shop/redact (erase the whole shop,
see stores/uninstall.py), and expects the action within 30 days:
https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance
The inbox turns each delivery into a ComplianceRequest row; an RQ job
(app/compliance/tasks.py) runs it. Running a completed request again does nothing.

Erasure keeps the numbers: the customer row stays as a tombstone (personal
columns cleared, email_key replaced by a marker that normalise_email can never
produce, so a later guest order with the same email creates a new guest
instead of reviving this record), orders keep their totals, so the store's
sums and counts do not move. Personal columns of other features are erased
through PERSONAL_DATA, which those features extend.

This module records requests (and re-exports the names callers import from here); running them is
compliance/run.py, erasure is compliance/erasure.py, the export and inbox scrub are
compliance/data.py. The RQ enqueue itself lives with the job in app/compliance/tasks.py: services
do not talk to Redis.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, object_session

from app.compliance.erasure import (
    PERSONAL_DATA,
    TOMBSTONE_PREFIX,
    PersonalData,
    erase_customers,
    erase_if_tombstone,
    is_tombstone,
    redact_customer,
    register_personal_data,
)
from app.compliance.models import PENDING, TOPICS
from app.compliance.models import ComplianceRequest as Request
from app.compliance.queueing import enqueue_request
from app.compliance.run import MAX_ATTEMPTS, Subject, find_subject, run_request
from app.inbox.models import WebhookDelivery
from app.platform.outbox import on_commit
from app.platform.types import utcnow
from app.stores.models import Store
from connectors.events import ComplianceRequest as ComplianceEvent
from connectors.exceptions import ConnectorError

__all__ = [
    "MAX_ATTEMPTS",
    "PERSONAL_DATA",
    "REQUEUE_AFTER",
    "TOMBSTONE_PREFIX",
    "PersonalData",
    "Subject",
    "adopt_deferred",
    "due_request_ids",
    "enqueue_after_commit",
    "erase_customers",
    "erase_if_tombstone",
    "find_subject",
    "is_tombstone",
    "record_compliance_request",
    "redact_customer",
    "register_personal_data",
    "run_request",
]

log = logging.getLogger(__name__)

#: A request enqueued now is swept again if still pending this much later (a lost enqueue, a dead worker).
REQUEUE_AFTER = timedelta(minutes=10)


def _id_or_none(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str) and str(value).strip():
        return str(value).strip()[:64]
    return None


def record_compliance_request(
    session: Session, store: Store, event: ComplianceEvent, delivery: WebhookDelivery, *, enqueue: bool = True
) -> Request:
    """The request row for this delivery, created once (a replayed delivery finds it); enqueued after commit.

    Only the platform's identifiers are copied: the customer's email and phone stay in the
    delivery body, which the job reads and customers/redact then scrubs.
    """
    existing = session.scalar(select(Request).where(Request.store_id == store.id, Request.delivery_id == delivery.id))
    if existing is not None:
        return existing
    payload = event.payload
    # Indexed once known to be a dict: get()'s "| None" is not narrowed by the isinstance() of another call.
    customer = payload["customer"] if isinstance(payload.get("customer"), dict) else {}
    orders = payload.get("orders_requested") or payload.get("orders_to_redact") or []
    data_request = payload["data_request"] if isinstance(payload.get("data_request"), dict) else {}
    request = Request(
        store_id=store.id,
        delivery_id=delivery.id,
        platform=store.platform,
        topic=event.topic if event.topic in TOPICS else event.topic[:64],
        shop_domain=store.domain,
        shop_platform_id=_id_or_none(payload.get("shop_id")),
        customer_platform_id=_id_or_none(customer.get("id")),
        order_platform_ids=[i for i in (_id_or_none(o) for o in orders if not isinstance(o, dict)) if i],
        data_request_id=_id_or_none(data_request.get("id")),
        requested_at=delivery.received_at,
        status=PENDING,
        attempts=0,
        next_attempt_at=utcnow() + REQUEUE_AFTER if enqueue else None,
        summary={},
    )
    session.add(request)
    session.flush()
    if enqueue:
        enqueue_after_commit(session, request)
    log.info("compliance.recorded", extra={"store_id": store.id, "request_id": request.id, "topic": request.topic})
    return request


def enqueue_after_commit(session: Session, request: Request) -> None:
    """Enqueue the job once the row is committed (a job started earlier would not see it).

    Best effort: if Redis is away the scheduler's sweep enqueues it after REQUEUE_AFTER.
    """
    request_id, store_id = request.id, request.store_id
    on_commit(object_session(request) or session, lambda: enqueue_request(request_id, store_id))


def adopt_deferred(session: Session, limit: int = 200) -> int:
    """Turn inbox rows parked as "deferred" (before this feature existed) into requests. Commits."""
    from app.inbox.processing import DEFERRED
    from connectors import get_connector

    rows = session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.status == DEFERRED).order_by(WebhookDelivery.id).limit(limit)
    ).all()
    for delivery in rows:
        store = session.get(Store, delivery.store_id)
        try:
            events = get_connector(delivery.platform).parse_event(delivery.topic, json.loads(delivery.body))
        except (ConnectorError, ValueError) as exc:
            delivery.status, delivery.processed_at = "failed", utcnow()
            delivery.last_error = f"{type(exc).__name__}: {str(exc)[:500]}"
            continue
        for event in events:
            if isinstance(event, ComplianceEvent) and store is not None:
                record_compliance_request(session, store, event, delivery)
        delivery.status, delivery.processed_at = "done", utcnow()
    session.commit()
    return len(rows)


def due_request_ids(session: Session, limit: int = 100) -> list[tuple[int, int]]:
    """Pending requests whose enqueue is due, (id, store id); leased for REQUEUE_AFTER so one tick enqueues each
    once. Commits."""
    now = utcnow()
    due = list(
        session.execute(
            select(Request.id, Request.store_id)
            .where(Request.status == PENDING, or_(Request.next_attempt_at.is_(None), Request.next_attempt_at <= now))
            .order_by(Request.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).tuples()
    )
    if due:
        ids = [request_id for request_id, _ in due]
        session.execute(update(Request).where(Request.id.in_(ids)).values(next_attempt_at=now + REQUEUE_AFTER))
    session.commit()
    return due
