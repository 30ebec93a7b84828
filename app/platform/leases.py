"""Leases kept alive while their work runs: a heartbeat thread renews the claimed rows' `locked_until`.

A claim (outbox.claim_due) gives rows a lease so a crashed worker's rows return to the queue when it expires.
A lease long enough to outlast any batch (five minutes) made a killed worker's rows wait five minutes; a short
one alone would expire under a slow but living worker and let a second worker take its rows. So the lease is
short and the living worker renews it every third of its length (`kept_leased`), from a thread of its own with
its own connection: the renewal goes on while the batch's transaction holds its locks or waits for one. A dead
worker stops renewing and its rows are due again a lease later, which the scheduler's sweep notices
(inbox/processing.release_expired_leases).

A renewal touches only rows still `where` (the caller passes, e.g., "still processing"), so rows the batch has
finished, or the sweeper has released to another worker, are left alone. A renewal that fails (the database
away) is logged and tried again at the next beat; the lease may then lapse, which costs a re-application that
the claim's status check and the per-store lock make a no-op (a row already done is skipped).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from app.platform.sql import chunks, in_keys
from app.platform.types import utcnow

log = logging.getLogger(__name__)


def renew(
    session: Session, model: type[Any], ids: Sequence[int], lease: timedelta, where: Sequence[ColumnElement[bool]]
) -> int:
    """Move the lease of `model`'s rows `ids` that still match `where` to now + `lease`; commits. Rows renewed."""
    renewed = 0
    for chunk in chunks(ids):
        result = session.execute(
            update(model)
            .where(in_keys(session, model.id, chunk), *where)
            .values(locked_until=utcnow() + lease)
            .execution_options(synchronize_session=False)
        )
        renewed += getattr(result, "rowcount", 0) or 0
    session.commit()
    return renewed


@contextmanager
def kept_leased(
    engine: Engine,
    model: type[Any],
    ids: Sequence[int],
    *,
    lease: timedelta,
    where: Sequence[ColumnElement[bool]] = (),
) -> Iterator[None]:
    """Renew the lease of `ids` every lease / 3 while the block runs (a heartbeat thread, its own session)."""
    stop = threading.Event()
    every = lease.total_seconds() / 3

    def beat() -> None:
        while not stop.wait(every):
            try:
                with Session(engine) as session:
                    renew(session, model, ids, lease, where)
            except Exception as exc:  # noqa: BLE001  (the next beat tries again; the lease may lapse)
                log.warning(
                    "platform.lease_renewal_failed", extra={"table": model.__tablename__, "error": type(exc).__name__}
                )

    thread = threading.Thread(target=beat, name=f"lease-{model.__tablename__}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
