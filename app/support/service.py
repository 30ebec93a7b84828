"""Recording what a shopper sends the merchant, handing it to the e-mail outbox, and the merchant's view of it.

`record` writes the row in the caller's transaction (the one that answers the shopper) and hands it over at
once when the store has an address; otherwise the row waits and the scheduler step (tasks.py) looks again,
after 1 minute, then 2, 4... at most every hour, so an address that appears later (the merchant sets the list,
the platform reports the store's e-mail) is used within the hour. Handing over writes one outbox message per
recipient (`support:<id>:<n>`); from there the outbox's retries and backoff apply (app/messaging/outbox.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.messaging import enqueue_message
from app.messaging.api import Message
from app.platform.outbox import backoff
from app.platform.sql import get_in_store
from app.records.models import Customer
from app.stores.models import Store
from app.support.models import FLAGGED_REFERRAL, HANDLED, HELP, LOW_RATING, RECOVERY, UNREAD, SupportMessage
from app.support.settings import MAX_NOTIFY_EMAILS, recipients

log = logging.getLogger(__name__)

NOTIFY_BASE_SECONDS = 60.0
NOTIFY_MAX_SECONDS = 3600.0
TEMPLATES = {
    HELP: "merchant_help_request",
    LOW_RATING: "merchant_low_rating_alert",
    RECOVERY: "merchant_recovery_case",
    FLAGGED_REFERRAL: "merchant_flagged_referral",
}
MAX_PAGE = 200


@dataclass(frozen=True)
class ShopperMessage:
    """What a programme records. `source_key` is its idempotency key (unique per store): the same key twice is one
    message (a double submit), so it names the content, e.g. review_help:<request>:<hash of the text>."""

    kind: str
    source_key: str
    body: str | None
    customer_id: int | None = None
    order_platform_id: str | None = None
    order_name: str | None = None
    ref: str | None = None
    rating: int | None = None
    product_title: str | None = None
    locale: str | None = None


def record(session: Session, store: Store, message: ShopperMessage, now: datetime) -> SupportMessage:
    """Store the message and hand it over if the store has an address; the caller commits."""
    if message.kind not in TEMPLATES:
        raise ValueError(f"unknown kind {message.kind!r}")
    existing = _by_key(session, store.id, message.source_key)
    if existing is not None:
        return existing
    row = SupportMessage(
        store_id=store.id,
        kind=message.kind,
        source_key=message.source_key,
        customer_id=message.customer_id,
        order_platform_id=message.order_platform_id,
        order_name=(message.order_name or "")[:64] or None,
        ref=message.ref,
        rating=message.rating,
        product_title=(message.product_title or "")[:255] or None,
        body=message.body,
        locale=(message.locale or "")[:16] or None,
        status=UNREAD,
        notify_attempts=0,
        created_at=now,
    )
    try:
        with session.begin_nested():  # a concurrent double submit must not undo the caller's other writes
            session.add(row)
            session.flush()
    except IntegrityError:
        found = _by_key(session, store.id, message.source_key)
        if found is None:
            raise
        return found
    hand_over(session, store, row, now)
    log.info("support.recorded", extra={"store_id": store.id, "support_id": row.id, "kind": row.kind})
    return row


def _by_key(session: Session, store_id: int, source_key: str) -> SupportMessage | None:
    stmt = select(SupportMessage).where(SupportMessage.store_id == store_id, SupportMessage.source_key == source_key)
    return session.scalar(stmt)


def hand_over(session: Session, store: Store, row: SupportMessage, now: datetime) -> int:
    """Queue the row's e-mail to each recipient, or schedule another look; how many were queued."""
    if row.notified_at is not None:
        return 0
    to = recipients(store, row.kind)
    if not to:
        row.notify_attempts += 1
        row.next_notify_at = now + backoff(row.notify_attempts, NOTIFY_BASE_SECONDS, NOTIFY_MAX_SECONDS)
        return 0
    context = _context(row)
    for n, address in enumerate(to):
        enqueue_message(
            session, store, template=TEMPLATES[row.kind], to=address, locale=(store.settings or {}).get("locale"),
            context=context, dedupe_key=f"support:{row.id}:{n}",
        )  # fmt: skip
    row.notified_at, row.next_notify_at = now, None
    log.info("support.handed_over", extra={"store_id": store.id, "support_id": row.id, "recipients": len(to)})
    return len(to)


def hand_over_waiting(session: Session, store: Store, now: datetime) -> int:
    """After the notification list changed: every message of the store still waiting goes out now."""
    stmt = select(SupportMessage).where(
        SupportMessage.store_id == store.id,
        SupportMessage.notified_at.is_(None),
        SupportMessage.next_notify_at.is_not(None),
    )
    rows = session.scalars(stmt.order_by(SupportMessage.id).with_for_update(skip_locked=True)).all()
    return sum(1 for row in rows if hand_over(session, store, row, now))


def _context(row: SupportMessage) -> dict[str, Any]:
    """The template's context (app/messaging/templates/merchant_*.html); an erased body is sent as nothing."""
    if row.kind == HELP:
        return {"order_name": row.order_name or row.order_platform_id or "", "message": row.body or ""}
    if row.kind == RECOVERY:
        return {
            "order_name": row.order_name or row.order_platform_id or "",
            "reason": row.body or "",
            "dashboard_url": f"{current_app.config['APP_URL']}/admin/api/v1/recovery/cases",
        }
    if row.kind == FLAGGED_REFERRAL:  # the body holds the fraud checks that matched, e.g. "same_address"
        return {
            "order_name": row.order_name or row.order_platform_id or "",
            "reasons": row.body or "",
            "dashboard_url": f"{current_app.config['APP_URL']}/app",
        }
    return {
        "rating": row.rating or 0,
        "product_title": row.product_title or "",
        "excerpt": row.body or "",
        "dashboard_url": f"{current_app.config['APP_URL']}/admin/api/v1/support/messages?status=unread",
    }


def outbox_keys(support_id: int) -> list[str]:
    """The dedupe keys of a message's e-mails: one per recipient, at most MAX_NOTIFY_EMAILS."""
    return [f"support:{support_id}:{n}" for n in range(MAX_NOTIFY_EMAILS)]


def list_messages(
    session: Session, store: Store, *, status: str | None, kind: str | None, limit: int, before: int | None
) -> dict[str, Any]:
    """A page of the store's messages, newest first; `next_before` continues it (None on the last page)."""
    limit = min(max(limit, 1), MAX_PAGE)
    stmt = select(SupportMessage).where(SupportMessage.store_id == store.id)
    if status is not None:
        stmt = stmt.where(SupportMessage.status == status)
    if kind is not None:
        stmt = stmt.where(SupportMessage.kind == kind)
    if before is not None:
        stmt = stmt.where(SupportMessage.id < before)
    rows = session.scalars(stmt.order_by(SupportMessage.id.desc()).limit(limit + 1)).all()
    page = list(rows[:limit])
    return {
        "messages": as_dicts(session, store, page),
        "next_before": page[-1].id if len(rows) > limit else None,
    }


def find(session: Session, store: Store, support_id: int) -> SupportMessage:
    row = get_in_store(session, SupportMessage, support_id, store.id)
    if row is None:
        raise LookupError(support_id)
    return row


def mark(session: Session, store: Store, support_id: int, status: str, now: datetime) -> SupportMessage:
    """The merchant's mark: handled (when first handled is kept) or unread again. LookupError if not the store's."""
    row = find(session, store, support_id)
    if status == HANDLED:
        row.status, row.handled_at = HANDLED, row.handled_at or now
    elif status == UNREAD:
        row.status, row.handled_at = UNREAD, None
    else:
        raise ValueError(status)
    session.flush()
    return row


def as_dicts(session: Session, store: Store, rows: list[SupportMessage]) -> list[dict[str, Any]]:
    """The admin's view: the message, the shopper's current e-mail (none once erased) and each e-mail's state."""
    keys = [key for row in rows for key in outbox_keys(row.id)]
    sent: dict[int, list[dict[str, Any]]] = {}
    if keys:
        mails = session.scalars(
            select(Message).where(Message.store_id == store.id, Message.dedupe_key.in_(keys)).order_by(Message.id)
        )
        for mail in mails:
            support_id = int(mail.dedupe_key.split(":")[1])
            sent.setdefault(support_id, []).append(
                {"to": mail.to_address, "status": mail.status, "sent_at": _iso(mail.sent_at)}
            )
    customer_ids = {row.customer_id for row in rows if row.customer_id is not None}
    emails: dict[int, str | None] = {}
    if customer_ids:
        found = session.execute(
            select(Customer.id, Customer.email).where(Customer.store_id == store.id, Customer.id.in_(customer_ids))
        )
        emails = {int(cid): email for cid, email in found}
    return [
        {
            "id": row.id,
            "kind": row.kind,
            "status": row.status,
            "body": row.body,
            "order_platform_id": row.order_platform_id,
            "order_name": row.order_name,
            "ref": row.ref,
            "rating": row.rating,
            "product_title": row.product_title,
            "customer_id": row.customer_id,
            "customer_email": emails.get(row.customer_id) if row.customer_id is not None else None,
            "locale": row.locale,
            "created_at": _iso(row.created_at),
            "handled_at": _iso(row.handled_at),
            "notified_at": _iso(row.notified_at),
            "waiting_for_address": row.notified_at is None,
            "deliveries": sent.get(row.id, []),
        }
        for row in rows
    ]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
