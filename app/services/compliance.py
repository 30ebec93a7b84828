"""Customer privacy requests: record them from the inbox, export a customer's data, erase it.

Shopify sends customers/data_request (give the merchant what we hold on a
customer), customers/redact (erase it) and shop/redact (erase the whole shop,
see services/uninstall.py), and expects the action within 30 days:
https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance
The inbox turns each delivery into a ComplianceRequest row; an RQ job
(app/tasks/compliance.py) runs it. Running a completed request again does nothing.

Erasure keeps the numbers: the customer row stays as a tombstone (personal
columns cleared, email_key replaced by a marker that normalise_email can never
produce, so a later guest order with the same email creates a new guest
instead of reviving this record), orders keep their totals, so the store's
sums and counts do not move. Personal columns of other features are erased
through PERSONAL_DATA, which those features extend.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, object_session

from connectors.events import ComplianceRequest as ComplianceEvent
from connectors.exceptions import ConnectorError

from ..models import Customer, Order, Store, WebhookDelivery
from ..models.compliance import COMPLETED, CUSTOMER_REDACT, DATA_REQUEST, FAILED, PENDING, SHOP_REDACT, TOPICS
from ..models.compliance import ComplianceRequest as Request
from ..models.types import utcnow
from . import compliance_data as data
from .customers import normalise_email

log = logging.getLogger(__name__)

JOB = "app.tasks.compliance.run_compliance_request"
#: A request enqueued now is swept again if still pending this much later (a lost enqueue, a dead worker).
REQUEUE_AFTER = timedelta(minutes=10)
MAX_ATTEMPTS = 8
TOMBSTONE_PREFIX = "~redacted:"  # no "@": normalise_email() never returns it


@dataclass(frozen=True)
class PersonalData:
    """Columns of `model` that hold a customer's personal data, found by `customer_key` (= customers.id)."""

    model: type
    columns: tuple[str, ...]
    customer_key: str = "customer_id"


#: What customers/redact sets to NULL. Later features append theirs with register_personal_data()
#: (review author names, addresses, referral emails...). Orders carry no contact details (line
#: items keep product titles only), so only the locale copied from the customer goes.
PERSONAL_DATA: list[PersonalData] = [
    PersonalData(Customer, ("email", "first_name", "last_name", "phone", "locale", "accepts_marketing"), "id"),
    PersonalData(Order, ("locale",)),
]


def register_personal_data(model: type, columns: tuple[str, ...], customer_key: str = "customer_id") -> None:
    PERSONAL_DATA.append(PersonalData(model, columns, customer_key))


def is_tombstone(customer: Customer) -> bool:
    return bool(customer.email_key and customer.email_key.startswith(TOMBSTONE_PREFIX))


# -- recording -----------------------------------------------------------------


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
    customer = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    orders = payload.get("orders_requested") or payload.get("orders_to_redact") or []
    data_request = payload.get("data_request") if isinstance(payload.get("data_request"), dict) else {}
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
    real = object_session(request) or session
    request_id = request.id
    sa_event.listen(real, "after_commit", lambda _session: enqueue_request(request_id), once=True)


def enqueue_request(request_id: int) -> bool:
    """Queue the job for a request; False (the sweep retries later) when Redis is away."""
    from redis.exceptions import RedisError

    from ..queue import get_queue

    try:
        get_queue().enqueue(JOB, request_id, job_timeout=3600, result_ttl=0, failure_ttl=7 * 86400)
        return True
    except RedisError:
        log.warning("compliance.enqueue_failed", extra={"request_id": request_id})
        return False


def adopt_deferred(session: Session, limit: int = 200) -> int:
    """Turn inbox rows parked as "deferred" (before this feature existed) into requests. Commits."""
    from connectors import get_connector

    from .inbox import DEFERRED

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


def due_request_ids(session: Session, limit: int = 100) -> list[int]:
    """Pending requests whose enqueue is due; leased for REQUEUE_AFTER so one tick enqueues each once. Commits."""
    now = utcnow()
    ids = list(
        session.scalars(
            select(Request.id)
            .where(Request.status == PENDING, or_(Request.next_attempt_at.is_(None), Request.next_attempt_at <= now))
            .order_by(Request.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if ids:
        session.execute(update(Request).where(Request.id.in_(ids)).values(next_attempt_at=now + REQUEUE_AFTER))
    session.commit()
    return ids


# -- running -------------------------------------------------------------------


@dataclass
class Subject:
    """Who a customer request is about: the payload's identifiers, then the records they lead to."""

    platform_id: str | None
    email_key: str | None
    phone: str | None
    order_ids: set[str] = field(default_factory=set)
    customers: list[Customer] = field(default_factory=list)


def run_request(session: Session, request_id: int) -> str:
    """Run one request to completion and commit; returns its status. Never raises for a failing request."""
    request = session.get(Request, request_id, with_for_update=True)
    if request is None:
        session.rollback()
        return "missing"
    if request.status == COMPLETED:
        session.rollback()
        return COMPLETED  # idempotent: a second run (a duplicate job) does nothing
    try:
        summary, export = _run(session, request)
        request.status, request.completed_at, request.error = COMPLETED, utcnow(), None
        request.summary = summary
        if export is not None:
            request.export = export
        session.commit()
    except Exception as exc:  # noqa: BLE001  (recorded and retried with backoff, never dropped)
        session.rollback()
        request = session.get(Request, request_id)
        if request is None:
            return "missing"
        request.attempts += 1
        request.error = f"{type(exc).__name__}: {str(exc)[:500]}"  # exception text only, no payload
        request.status = FAILED if request.attempts >= MAX_ATTEMPTS else PENDING
        request.next_attempt_at = utcnow() + timedelta(seconds=min(3600, 30 * 2**request.attempts))
        session.commit()
        log.warning("compliance.failed", extra={"request_id": request_id, "error": type(exc).__name__})
    log.info("compliance.ran", extra={"request_id": request_id, "topic": request.topic, "status": request.status})
    return request.status


def _run(session: Session, request: Request) -> tuple[dict[str, Any], dict[str, Any] | None]:
    from . import uninstall
    from .inbox import lock_store  # the same per-store lock as inbox processing: no delivery applies meanwhile

    store = session.get(Store, request.store_id)
    if store is None:
        # shop/redact already removed everything of this store: nothing is held.
        empty = {"store": "deleted"}
        return empty, (
            {"customers": [], "note": "the store's data was deleted"} if request.topic == DATA_REQUEST else None
        )
    lock_store(session, store.id)
    if request.topic == SHOP_REDACT:
        return uninstall.redact_shop(session, store, request), None
    subject = find_subject(session, store, request)
    if request.topic == DATA_REQUEST:
        export = data.export_customer(session, store, request, subject.customers, subject.order_ids)
        return {"customers": len(subject.customers), "orders": len(export["orders"])}, export
    if request.topic == CUSTOMER_REDACT:
        return redact_customer(session, store, request, subject), None
    raise ValueError(f"unknown compliance topic {request.topic!r}")


def find_subject(session: Session, store: Store, request: Request) -> Subject:
    """The customer records a request names: by platform id, by email, and guests owning the listed orders.

    A record found by email that is *another account* (a different platform id) is a different
    person who took over the address, and is left alone.
    """
    payload: dict[str, Any] = {}
    delivery = session.get(WebhookDelivery, request.delivery_id)
    if delivery is not None and delivery.store_id == store.id:
        try:
            payload = json.loads(delivery.body)
        except ValueError:
            payload = {}  # already scrubbed by an earlier redaction of the same person
    who = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    subject = Subject(
        platform_id=request.customer_platform_id,
        email_key=normalise_email(who.get("email") if isinstance(who.get("email"), str) else None),
        phone=who.get("phone") if isinstance(who.get("phone"), str) else None,
        order_ids=set(request.order_platform_ids or []),
    )
    found: dict[int, Customer] = {}
    if subject.platform_id:
        row = session.scalar(
            select(Customer).where(Customer.store_id == store.id, Customer.platform_id == subject.platform_id)
        )
        if row is not None:
            found[row.id] = row
    if subject.email_key:
        row = session.scalar(
            select(Customer).where(Customer.store_id == store.id, Customer.email_key == subject.email_key)
        )
        if row is not None and (
            row.platform_id is None or not subject.platform_id or row.platform_id == subject.platform_id
        ):
            found[row.id] = row
    if subject.order_ids:
        for row in session.scalars(
            select(Customer)
            .join(Order, Order.customer_id == Customer.id)
            .where(Order.store_id == store.id, Customer.store_id == store.id, Order.platform_id.in_(subject.order_ids))
        ):
            if row.platform_id is None or row.platform_id == subject.platform_id:
                found[row.id] = row
    subject.customers = sorted(found.values(), key=lambda c: c.id)
    if subject.customers:
        subject.order_ids |= set(
            session.scalars(
                select(Order.platform_id).where(Order.store_id == store.id, Order.customer_id.in_(list(found)))
            )
        )
    return subject


def redact_customer(session: Session, store: Store, request: Request, subject: Subject) -> dict[str, Any]:
    """Erase the subject's personal data everywhere; totals, counts and ledger rows stay as they are."""
    ids = [c.id for c in subject.customers]
    matcher = data.InboxMatcher.for_subject(subject)  # built before the columns it reads are cleared
    erased = erase_customers(session, store, ids)
    purged = data.purge_exports(session, store.id, ids, subject.platform_id, exclude=request.id)
    scrubbed = data.scrub_inbox(session, store.id, matcher, marker={"redacted": CUSTOMER_REDACT})
    return {"customers": len(ids), "erased": erased, "inbox_scrubbed": scrubbed, "exports_purged": purged}


def erase_customers(session: Session, store: Store, ids: list[int]) -> dict[str, int]:
    """NULL every registered personal column of these customers and turn them into tombstones."""
    erased: dict[str, int] = {}
    if not ids:
        return erased
    for item in PERSONAL_DATA:
        table = item.model.__table__
        result = session.execute(
            update(table)
            .where(table.c.store_id == store.id, table.c[item.customer_key].in_(ids))
            .values({name: None for name in item.columns})
        )
        erased[table.name] = erased.get(table.name, 0) + (result.rowcount or 0)
    # The marker is per record (email_key is unique per store) and says nothing about the address.
    for customer_id in ids:
        session.execute(
            update(Customer)
            .where(Customer.store_id == store.id, Customer.id == customer_id)
            .values(email_key=f"{TOMBSTONE_PREFIX}{customer_id}")
        )
    session.expire_all()  # Core updates: reload ORM state before anyone reads it
    return erased


def erase_if_tombstone(session: Session, store: Store, event: Any) -> None:
    """Pipeline guard after record-keeping (OrderChanged, CustomerChanged): a late or still-queued
    delivery about an erased account must not refill its tombstone.

    The tombstone keeps its platform id, so such an order still attaches to it and the totals
    stay right; the name and email that the snapshot copied back are erased again.
    """
    snap = getattr(getattr(event, "order", None), "customer", None) or getattr(event, "customer", None)
    platform_id = getattr(snap, "platform_id", None)
    if not platform_id or not _was_redacted(session, store.id, platform_id):
        return
    customer_id = session.scalar(
        select(Customer.id).where(Customer.store_id == store.id, Customer.platform_id == platform_id)
    )
    if customer_id is not None:
        erase_customers(session, store, [customer_id])
        log.info("compliance.tombstone_kept", extra={"store_id": store.id, "customer_id": customer_id})


#: session.info key. While an inbox batch is applied: {store id: customer platform ids with a completed
#: customers/redact}, loaded once per store per batch (services/batch_derived.py) instead of a query per delivery.
REDACTED_IDS = "compliance.redacted_ids"


def _was_redacted(session: Session, store_id: int, platform_id: str) -> bool:
    known = session.info.get(REDACTED_IDS)
    if known is not None:
        if store_id not in known:
            ids = select(Request.customer_platform_id).where(
                Request.store_id == store_id, Request.topic == CUSTOMER_REDACT, Request.status == COMPLETED
            )
            known[store_id] = set(session.scalars(ids))
        return platform_id in known[store_id]
    stmt = select(Request.id).where(
        Request.store_id == store_id,
        Request.topic == CUSTOMER_REDACT,
        Request.status == COMPLETED,
        Request.customer_platform_id == platform_id,
    )
    return session.scalar(stmt.limit(1)) is not None
