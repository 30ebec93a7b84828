"""Processing the inbox: claim pending deliveries, apply each in its own transaction.

Claiming sets a lease (`locked_until`), renewed by the worker while it applies the batch
(platform/leases.py), so a crashed worker's rows return to pending within INBOX_LEASE_SECONDS.
On PostgreSQL, FOR UPDATE SKIP LOCKED lets several
workers claim side by side, and a transaction-scoped advisory lock per store (lock_store)
applies one store's deliveries one at a time (the rules in records/orders.py
make their order irrelevant, but concurrent writers to one customer's rows
would otherwise race on recomputed totals).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.config import DEFAULT_INBOX_LEASE_SECONDS
from app.inbox.claim import fair_ids
from app.inbox.models import DONE, FAILED, PENDING, PROCESSING, WebhookDelivery
from app.inbox.pipeline import apply_event
from app.platform.locks import lock_store
from app.platform.outbox import Claimed, backoff, claim_ids
from app.platform.sql import chunks, get_in_store, in_keys
from app.platform.types import utcnow
from app.stores.models import Store
from connectors import get_connector
from connectors.exceptions import ConnectorError

log = logging.getLogger(__name__)

#: A claim's lease when the caller names none (the worker passes INBOX_LEASE_SECONDS and renews it).
DEFAULT_LEASE = timedelta(seconds=DEFAULT_INBOX_LEASE_SECONDS)
DEFERRED = "deferred"  # parked by earlier releases for a later feature; the compliance sweep adopts them
_CONFLICT_RETRIES = 3


def claim_batch(session: Session, limit: int, lease: timedelta = DEFAULT_LEASE) -> list[Claimed]:
    """Claim up to `limit` due deliveries (status `processing`, a lease, attempts + 1): a fair share of every
    store's oldest, then the oldest of any store (inbox/claim.py), leased by the outbox's claim
    (platform/outbox.claim_ids); the worker renews the lease while it applies them (platform/leases.py). Each
    with its store, so the batch is split by store without reading the rows again."""
    now = utcnow()
    eligible = fair_ids(session.get_bind().dialect.name, limit, now)
    return claim_ids(session, WebhookDelivery, eligible, now=now, lease=lease, values={"status": PROCESSING})


def apply_delivery(session: Session, delivery: WebhookDelivery) -> str:
    """Parse and dispatch one delivery; returns the status to record."""
    store = session.get(Store, delivery.store_id)
    if store is None:
        return FAILED
    events = get_connector(delivery.platform).parse_event(delivery.topic, json.loads(delivery.body))
    lock_store(session, store.id)
    session.refresh(store)
    for event in events:
        apply_event(session, store, event, delivery)
    return DONE


def process_delivery(session: Session, delivery_id: int, store_id: int, max_attempts: int) -> str:
    """Apply one claimed delivery of the store and record the outcome. Never raises for a bad delivery."""
    for _ in range(_CONFLICT_RETRIES):
        try:
            delivery = get_in_store(session, WebhookDelivery, delivery_id, store_id)
            if delivery is None or delivery.status != PROCESSING:
                session.rollback()
                return "skipped"
            status = apply_delivery(session, delivery)
            finish(delivery, status, None)
            session.commit()
            return status
        except (IntegrityError, OperationalError) as exc:
            # A concurrent insert of the same customer/order, or a deadlock: the
            # whole delivery is re-applied from a clean transaction.
            session.rollback()
            last: Exception = exc
        except ConnectorError as exc:
            session.rollback()
            return _record_failure(session, delivery_id, store_id, exc, permanent=True, max_attempts=max_attempts)
        except Exception as exc:  # noqa: BLE001  (a bug or an outage: retried with backoff, never dropped)
            session.rollback()
            return _record_failure(session, delivery_id, store_id, exc, permanent=False, max_attempts=max_attempts)
    return _record_failure(session, delivery_id, store_id, last, permanent=False, max_attempts=max_attempts)


def _finished(status: str, error: str | None) -> dict[str, Any]:
    return {"status": status, "processed_at": utcnow(), "locked_until": None, "last_error": error}


def finish(delivery: WebhookDelivery, status: str, error: str | None) -> None:
    for name, value in _finished(status, error).items():
        setattr(delivery, name, value)


def finish_all(session: Session, store_id: int, ids: Sequence[int], status: str) -> None:
    """finish() for many deliveries as one UPDATE per 500, in the caller's transaction. The batch path's
    applied deliveries: as ORM changes, the unit of work spent more on these status rows than on some records.
    Their loaded objects are not updated (the caller commits, which expires them)."""
    for chunk in chunks(ids):
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.store_id == store_id, in_keys(session, WebhookDelivery.id, chunk))
            .values(_finished(status, None))
            .execution_options(synchronize_session=False)
        )


def _record_failure(
    session: Session, delivery_id: int, store_id: int, exc: Exception, *, permanent: bool, max_attempts: int
) -> str:
    delivery = get_in_store(session, WebhookDelivery, delivery_id, store_id)
    if delivery is None:
        return "skipped"
    status = mark_failure(delivery, exc, permanent=permanent, max_attempts=max_attempts)
    session.commit()
    return status


def mark_failure(delivery: WebhookDelivery, exc: Exception, *, permanent: bool, max_attempts: int) -> str:
    """Park the delivery as failed, or put it back for a retry with backoff; the caller commits."""
    # Exception text only (never the payload): it must not carry personal data.
    error = f"{type(exc).__name__}: {str(exc)[:500]}"
    if permanent or delivery.attempts >= max_attempts:
        finish(delivery, FAILED, error)
    else:
        delivery.status = PENDING
        delivery.locked_until = None
        delivery.last_error = error
        delivery.next_attempt_at = utcnow() + backoff(delivery.attempts + 1, 5, 3600)  # 10 s, 20, 40... at most 1 h
    log.warning(
        "inbox.delivery_failed",
        extra={
            "store_id": delivery.store_id,
            "delivery_id": delivery.id,
            "status": delivery.status,
            "error": type(exc).__name__,
            # The class only: a parse error's message may quote the payload (personal data).
            "reason": f"{type(exc).__name__}, "
            + ("parked as failed" if delivery.status == FAILED else "retried later"),
        },
    )
    return delivery.status


def release_expired_leases(session: Session) -> int:
    """Return rows whose worker died mid-batch to pending."""
    result = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.status == PROCESSING, WebhookDelivery.locked_until < utcnow())
        .values(status=PENDING, locked_until=None)
    )
    session.commit()
    # DML returns a CursorResult (rowcount); execute() is typed Result
    return cast("CursorResult[Any]", result).rowcount or 0


def overdue_count(session: Session, older_than: timedelta) -> int:
    """Pending rows that should have been picked up by now (their kick was lost)."""
    now = utcnow()
    count = session.scalar(
        select(func.count())
        .select_from(WebhookDelivery)
        .where(
            WebhookDelivery.status == PENDING,
            WebhookDelivery.received_at < now - older_than,
            or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
        )
    )
    session.commit()
    return count or 0
