"""An outbox row worked by one RQ job: its retry columns, and the scheduler step that claims due rows and enqueues them.

The features whose rows are their own outbox (surprises, recovery cases, campaign coupon sends) had each written
the same tick and the same columns; this is the one copy. The claim itself is app/platform/outbox.claim_due's
(FOR UPDATE SKIP LOCKED, a lease, `attempts + 1`): this module only says which rows are due and what happens to
each claimed one (DESIGN.md, app/platform/ in the layout).

- `OutboxColumns`: the mixin of `attempts`, `locked_until`, `next_attempt_at` and `last_error`, with the names and
  types the migrations already gave those tables (tests/test_schema_and_cli.py compares them).
- `claim_and_enqueue(session, model, ...)`: claims rows of `model` whose status is one of `statuses`, whose
  `next_attempt_at` has come and whose lease is free (plus the caller's `where`, e.g. an active store through
  `join`), oldest due first unless `order_by` says otherwise, and enqueues `job(row_id, attempt, store_id)` for
  each (the store, so the job's reads name it). The worker compares the attempt with the row's, so a job that
  outlived its lease does nothing. Returns how many jobs were enqueued.
- `enqueue_row(job, row_id, attempt, store_id, ...)`: one such job. Redis down is logged, not raised: the row's lease
  passes and a later tick claims it again (the row, not the queue, is what holds the work).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import Integer, SQLColumnExpression, String
from sqlalchemy.orm import Mapped, Session, mapped_column, scoped_session
from sqlalchemy.sql import ColumnElement

from app.platform.logs import reason
from app.platform.outbox import claim_due
from app.platform.queue import get_queue
from app.platform.types import UTCDateTime

log = logging.getLogger(__name__)


class OutboxColumns:
    """The columns claim_due and claim_and_enqueue read and a worker writes back (its error, its next try)."""

    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))


def claim_and_enqueue(
    session: Session | scoped_session[Any],
    model: type[Any],
    *,
    job: str,
    statuses: Collection[str],
    now: datetime,
    lease: timedelta,
    job_timeout: int,
    event: str,
    limit: int = 200,
    where: Sequence[ColumnElement[bool]] = (),
    order_by: Sequence[SQLColumnExpression[Any]] | None = None,
    join: tuple[type[Any], ColumnElement[bool]] | None = None,
) -> int:
    """Claim the due rows of `model` (claim_due commits) and enqueue `job` for each; `event` names a failed enqueue."""
    claimed = claim_due(
        session,
        model,
        now=now,
        limit=limit,
        lease=lease,
        where=[
            model.status.in_(statuses),
            model.next_attempt_at <= now,
            model.locked_until.is_(None) | (model.locked_until <= now),
            *where,
        ],
        order_by=order_by or [model.next_attempt_at],
        join=join,
    )
    return sum(
        enqueue_row(job, row_id, attempt, store_id, job_timeout=job_timeout, event=event)
        for row_id, attempt, store_id in claimed
    )


def enqueue_row(
    job: str, row_id: int, attempt: int | None, store_id: int | None, *, job_timeout: int, event: str
) -> bool:
    """Enqueue `job(row_id, attempt, store_id)`; False (logged as `event`) when Redis is down."""
    try:
        get_queue().enqueue(job, row_id, attempt, store_id, job_timeout=job_timeout, result_ttl=3600, failure_ttl=86400)
        return True
    except RedisError as exc:  # the lease passes and a later tick claims the row again
        log.warning(event, extra={"job": job, "row_id": row_id, "reason": reason(exc)})
        return False
