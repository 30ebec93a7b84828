"""The outbox pattern's three pieces, named once: backoff, the claim of due rows, and work run after a commit.

- `backoff(attempt, base, cap)`: the wait before the next try, `base * 2 ** (attempt - 1)` seconds capped at
  `cap` (attempt 1 waits `base`; an attempt below 1 counts as 1). No jitter: the callers' retries are rows
  whose next_attempt_at the scheduler's tick reads, not a thundering herd of clients.
- `claim_due(session, model, ...)`: claims due rows of an outbox table (one with `id`, `attempts` and
  `locked_until` columns) with a lease: one statement, `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP
  LOCKED)` on PostgreSQL, so two schedulers or workers never take the same row (SQLite has no row locks and
  its writers are serialised: the same statement without the lock clause). The claimed rows get
  `locked_until = now + lease` and `attempts + 1`; the caller names which rows are due (`where`), their order,
  an optional join (e.g. to active stores) and any other column the claim sets (e.g. a status). Commits.
  `claim_ids(session, model, eligible, ...)` is its second half, for a caller whose own select picks the rows.
- `on_commit(session, fn)`: `fn()` once after the session's next commit; dropped if that transaction rolls back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Select, SQLColumnExpression, event, null, select, update
from sqlalchemy.orm import Session, SessionTransaction, scoped_session
from sqlalchemy.sql import ColumnElement

log = logging.getLogger(__name__)
_PENDING = "platform.on_commit"  # the key of Session.info holding the callbacks waiting for the commit


def backoff(attempt: int, base: float, cap: float) -> timedelta:
    """The wait before retry number `attempt` (1-based): base, 2*base, 4*base... at most `cap` seconds."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempt - 1)))


class Claimed(NamedTuple):
    """A claimed row: its id, the attempt the claim made (a job compares it with the row's), and its store (None
    for a table without one), so the job it is enqueued for names its store (docs/deployment.md, Citus)."""

    id: int
    attempt: int
    store_id: int | None


def claim_due(
    session: Session | scoped_session[Any],
    model: type[Any],
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[SQLColumnExpression[Any]],
    join: tuple[type[Any], ColumnElement[bool]] | None = None,
    values: Mapping[str, Any] | None = None,
) -> list[Claimed]:
    """Claim up to `limit` rows of `model` matching `where`, first by `order_by`; by id.

    `join` is (the other model, the on clause), for conditions on another table; only `model`'s rows are
    locked. `values` are set besides the lease and the attempt. Commits (also when nothing was claimed).
    """
    eligible = select(model.id)
    if join is not None:
        eligible = eligible.join(join[0], join[1])
    eligible = eligible.where(*where).order_by(*order_by).limit(limit).with_for_update(skip_locked=True, of=model)
    return claim_ids(session, model, eligible, now=now, lease=lease, values=values)


def claim_ids(
    session: Session | scoped_session[Any],
    model: type[Any],
    eligible: Select[tuple[int]],
    *,
    now: datetime,
    lease: timedelta,
    values: Mapping[str, Any] | None = None,
) -> list[Claimed]:
    """claim_due's lease and attempt for the rows of `model` whose ids `eligible` selects, for a choice of rows
    claim_due's where and order cannot express (inbox/claim.py: a fair share per store). `eligible` locks its
    rows itself (FOR UPDATE SKIP LOCKED on PostgreSQL) and holds only due rows. Commits."""
    rows = session.execute(
        update(model)
        .where(model.id.in_(eligible.scalar_subquery()))
        .values(**dict(values or {}), locked_until=now + lease, attempts=model.attempts + 1)
        .returning(model.id, model.attempts, getattr(model, "store_id", null()))
        # The commit below expires every loaded row: nothing in the session needs to follow the update.
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    return sorted(Claimed(int(row[0]), int(row[1]), None if row[2] is None else int(row[2])) for row in rows)


def on_commit(session: Session | scoped_session[Any], fn: Callable[[], object]) -> None:
    """Run `fn()` once, after this session's next commit (of its outermost transaction); not at all if that
    transaction rolls back or the session closes instead (a SAVEPOINT's release or rollback does neither: the
    outer transaction decides).

    For work that must see the committed rows (enqueue a job for a row this transaction inserted). A scoped
    session stands for the session it holds now. The callbacks run in the order they were added; one that
    raises propagates out of commit() (the commit has happened) and the ones after it do not run.
    """
    real = session() if isinstance(session, scoped_session) else session
    real.info.setdefault(_PENDING, []).append(fn)
    if not event.contains(real, "after_commit", _run_pending):
        event.listen(real, "after_commit", _run_pending)
        event.listen(real, "after_transaction_end", _drop_pending)


def _run_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT released (SQLAlchemy signals it as a commit too): the outer transaction decides
    pending: list[Callable[[], object]] = session.info.pop(_PENDING, [])
    for fn in pending:
        fn()


def _drop_pending(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended: what a commit did not run (a rollback, a close) is dropped."""
    if transaction.nested or transaction.parent is not None:
        return
    dropped = session.info.pop(_PENDING, None)
    if dropped:
        log.debug("platform.on_commit_dropped", extra={"callbacks": len(dropped)})
