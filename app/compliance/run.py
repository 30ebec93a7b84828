"""Running one privacy request: lock the store, find who it is about, export or erase, record the outcome.

Split from compliance/service.py (which records the requests and re-exports these names). The RQ job
(app/compliance/tasks.py) and `flask compliance run` call run_request(); a failure is recorded on the row
and retried with backoff until MAX_ATTEMPTS, never dropped. What erasure does is compliance/erasure.py;
the export is compliance/data.py.
https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.compliance import data
from app.compliance.erasure import redact_customer
from app.compliance.models import COMPLETED, CUSTOMER_REDACT, DATA_REQUEST, FAILED, PENDING, SHOP_REDACT
from app.compliance.models import ComplianceRequest as Request
from app.compliance.shop_redact import redact_shop
from app.inbox.models import WebhookDelivery
from app.platform.locks import lock_store
from app.platform.outbox import backoff
from app.platform.sql import get_in_store
from app.platform.types import utcnow
from app.records.models import Customer, Order
from app.records.models.customer import normalise_email
from app.stores.models import Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


@dataclass
class Subject:
    """Who a customer request is about: the payload's identifiers, then the records they lead to."""

    platform_id: str | None
    email_key: str | None
    phone: str | None
    order_ids: set[str] = field(default_factory=set)
    customers: list[Customer] = field(default_factory=list)


def run_request(session: Session, request_id: int, store_id: int) -> str:
    """Run one request to completion and commit; returns its status. Never raises for a failing request."""
    request = get_in_store(session, Request, request_id, store_id, for_update=True)
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
        request = get_in_store(session, Request, request_id, store_id)
        if request is None:
            return "missing"
        request.attempts += 1
        request.error = f"{type(exc).__name__}: {str(exc)[:500]}"  # exception text only, no payload
        request.status = FAILED if request.attempts >= MAX_ATTEMPTS else PENDING
        request.next_attempt_at = utcnow() + backoff(request.attempts + 1, 30, 3600)  # 1 min, 2, 4... at most 1 h
        session.commit()
        log.warning("compliance.failed", extra={"request_id": request_id, "reason": type(exc).__name__})
    log.info("compliance.ran", extra={"request_id": request_id, "topic": request.topic, "status": request.status})
    return request.status


def _run(session: Session, request: Request) -> tuple[dict[str, Any], dict[str, Any] | None]:

    store = session.get(Store, request.store_id)
    if store is None:
        # shop/redact already removed everything of this store: nothing is held.
        empty = {"store": "deleted"}
        return empty, (
            {"customers": [], "note": "the store's data was deleted"} if request.topic == DATA_REQUEST else None
        )
    lock_store(session, store.id)
    if request.topic == SHOP_REDACT:
        return redact_shop(session, store, request), None
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
    delivery = get_in_store(session, WebhookDelivery, request.delivery_id, store.id)
    if delivery is not None:
        try:
            payload = json.loads(delivery.body)
        except ValueError:
            payload = {}  # already scrubbed by an earlier redaction of the same person
    # Indexed once known to be a dict: get()'s "| None" is not narrowed by the isinstance() of another call.
    who = payload["customer"] if isinstance(payload.get("customer"), dict) else {}
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
