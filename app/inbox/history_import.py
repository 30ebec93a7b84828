"""The history import of one store: set up, run (as a job or by `flask stores import`), resumed, shown.

docs/history-import.md is the merchant's and operator's page. The mechanism:
- `start` writes the store's `history_imports` row (records/history.set_up: the merchant's choices and the
  cut-off, the store's install time) and enqueues `import_job` after the commit. Installing a Shopify store and
  connecting a WooCommerce one start it (hooks registered in inbox/__init__.py).
- `run` reads customers, then orders (inbox/history_sources.py), and applies them a chunk per transaction under
  the store's lock (inbox/history_apply.py; on PostgreSQL the bulk paths, inbox/history_bulk_customers.py and
  history_bulk.py), the cursor committed with each chunk. One runner per store (a
  Redis job lock); a second one, or a job enqueued twice, finds it held and leaves.
- Resuming: the row says where it stopped. A job killed mid-import leaves its row `running` with a stale
  `updated_at` (and its lock lapses after LEASE_SECONDS); the scheduler step `resume_stalled` enqueues it
  again, as it does a minute later for a `waiting` Shopify import (its bulk operation was still running after
  HISTORY_WAIT_SECONDS), which the `bulk_operations/finish` webhook resumes at once.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Callable, Generator, Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from flask import Flask, current_app
from redis.exceptions import LockError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import db
from app.inbox.history_apply import CHUNK
from app.inbox.history_bulk import chunk_size, enabled
from app.inbox.history_bulk_customers import apply_chunk
from app.inbox.history_bulk_settle import settle_phase
from app.inbox.history_prefetch import prefetched
from app.inbox.history_sources import Chunk, Reading, Waiting, shopify_chunks, woo_chunks
from app.platform.jobs import job_app
from app.platform.logs import reason
from app.platform.outbox import on_commit
from app.platform.queue import get_queue, get_redis
from app.platform.redis_keys import store_tag
from app.platform.types import utcnow
from app.records.history import history_import, set_up
from app.records.models import HistoryImport
from app.stores.clients import NotConnected, client_for
from app.stores.models import Store
from connectors.events import BulkOperationFinished
from connectors.exceptions import ConnectorError
from connectors.shopify_admin import AdminClient
from connectors.shopify_bulk import BulkOperationFailed
from connectors.woocommerce_admin import WooAdminClient

log = logging.getLogger(__name__)

KINDS = ("customers", "orders")
#: A `running` import whose row has not moved for this long lost its job (a killed worker): enqueued again.
STALLED_AFTER = timedelta(minutes=10)
#: A `waiting` import (its bulk operation was still running) is looked at again after this, webhook or not.
WAITING_RECHECK = timedelta(minutes=1)
#: The runner lock's lease: longer than one chunk or one poll takes, renewed after each.
LEASE_SECONDS = 120
JOB_TIMEOUT = 6 * 3600


def start(
    session: Session, store: Store, *, earn_points: bool, tiers_from_past: bool, enqueue_job: bool = True
) -> HistoryImport:
    """Set the store's import up (once: the choices hold from the first set-up) and, unless the caller runs it
    itself, enqueue it after the commit."""
    now = utcnow()
    row, _ = set_up(
        session,
        store.id,
        earn_points=earn_points,
        tiers_from_past=tiers_from_past,
        now=min(store.installed_at, now) if store.installed_at else now,
    )
    if enqueue_job and row.status in ("queued", "failed"):
        store_id = store.id
        on_commit(session, lambda: enqueue(store_id))
    return row


def enqueue(store_id: int) -> None:
    try:
        get_queue().enqueue(import_job, store_id, job_timeout=JOB_TIMEOUT, failure_ttl=7 * 86400)
    except Exception as exc:  # noqa: BLE001  (Redis away: the scheduler's resume_stalled or the command catch up)
        log.warning("history.enqueue_failed", extra={"store_id": store_id, "reason": reason(exc)})


def import_job(store_id: int) -> str:
    with job_app().app_context():
        return run(db.session, store_id)


def on_installed(store_id: int) -> None:
    """After a Shopify install or a WooCommerce connect: the history with the defaults (no points for the past,
    tiers not from past spend) unless HISTORY_IMPORT_ON_INSTALL is 0; the merchant may run it again by hand."""
    if not current_app.config.get("HISTORY_IMPORT_ON_INSTALL", True):
        return
    store = db.session.get(Store, store_id)
    if store is not None and store.status == "active":
        start(db.session, store, earn_points=False, tiers_from_past=False)
        db.session.commit()


def run(session: Session, store_id: int, on_progress: Callable[[HistoryImport], None] | None = None) -> str:
    """Run (or resume) the store's import to its end; returns the import's status, or "busy" when another
    runner holds it. The runner's Redis lock has a short lease renewed after every chunk and every poll, so a
    killed runner's lock lapses in LEASE_SECONDS and the scheduler's next enqueue resumes the import."""
    lock = get_redis().lock(f"history_import:{store_tag(store_id)}", timeout=LEASE_SECONDS, blocking=False)
    if not lock.acquire():
        return "busy"
    try:
        with collector_eased(int(current_app.config.get("HISTORY_GC_THRESHOLD", 0))):
            return _run(session, store_id, on_progress or (lambda row: None), lock.reacquire)
    finally:
        with contextlib.suppress(LockError):
            lock.release()


@contextlib.contextmanager
def collector_eased(threshold: int) -> Iterator[None]:
    """Python's cyclic garbage collector run less often while the import runs (restored after it).

    Why: a chunk allocates millions of objects (documents, events, rows) that plain reference counting frees; at
    the default threshold (700 allocations) the collector ran thousands of times a chunk, each young collection
    scanning what the chunk holds and each old one everything the process holds: parsing measured 2-3x slower
    with it than without (bench/README.md, "history_import.py"). What exists when the import starts (the app,
    its modules, the caller's data) is frozen out of the collections; new objects are collected every
    `threshold` allocations (0: the collector as it is)."""
    if threshold <= 0:
        yield
        return
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _run(
    session: Session, store_id: int, on_progress: Callable[[HistoryImport], None], renew: Callable[[], Any]
) -> str:
    row, store = history_import(session, store_id), session.get(Store, store_id)
    if row is None or store is None or row.status == "done":
        return row.status if row is not None else "none"
    row.status, row.last_error = "running", None
    row.started_at = row.started_at or utcnow()
    session.commit()
    config = current_app.config
    try:
        client = client_for(store)
        for kind in KINDS[KINDS.index(row.phase) :] if row.phase in KINDS else ():
            row.phase = kind
            session.commit()
            with contextlib.closing(_chunks(session, store_id, client, kind, config, renew)) as chunks:
                for chunk in chunks:  # closed on a failure: the reading thread stops (inbox/history_prefetch.py)
                    apply_chunk(session, store_id, kind, chunk.documents, chunk.cursor)
                    renew()
                    on_progress(_row(session, store_id))
        settle_phase(session, store_id, renew)  # what the past chunks deferred, committed before the import is done
        row = _row(session, store_id)
        row.phase, row.status, row.finished_at = "finished", "done", utcnow()
    except Waiting:
        session.rollback()
        row = _row(session, store_id)
        row.status = "waiting"
    except (ConnectorError, NotConnected) as exc:
        session.rollback()
        row = _row(session, store_id)
        row.status, row.last_error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        if isinstance(exc, BulkOperationFailed) and row.phase in KINDS:
            # The operation failed or its file expired (seven days): the next run starts the phase over with a
            # new one. What was applied stays (the records take the same snapshots again without change).
            row.cursor = {kind: cursor for kind, cursor in row.cursor.items() if kind != row.phase}
            setattr(row, f"{row.phase}_done", 0)
        log.warning("history.failed", extra={"store_id": store_id, "reason": reason(exc)})
    session.commit()
    on_progress(row)
    log.info("history.stopped", extra={"store_id": store_id, "status": row.status, **progress(row)})
    return row.status


def _row(session: Session, store_id: int) -> HistoryImport:
    row = history_import(session, store_id)
    if row is None:
        raise LookupError("history import gone")
    return row


def _chunks(
    session: Session, store_id: int, client: Any, kind: str, config: Any, renew: Callable[[], Any]
) -> Generator[Chunk, None, None]:
    row = _row(session, store_id)

    def save_cursor(cursor: dict[str, Any]) -> None:
        found = _row(session, store_id)
        found.cursor = {**found.cursor, kind: cursor}
        session.commit()

    def set_total(total: int | None) -> None:
        found = _row(session, store_id)
        if total is not None and total != getattr(found, f"{kind}_total"):
            setattr(found, f"{kind}_total", total)
            session.commit()

    reading = Reading(
        cursor=dict(row.cursor.get(kind) or {}),
        save_cursor=save_cursor,
        set_total=set_total,
        poll_seconds=float(config["HISTORY_POLL_SECONDS"]),
        wait_seconds=float(config["HISTORY_WAIT_SECONDS"]),
        heartbeat=renew,
        chunk=chunk_size() if enabled(session, kind) else CHUNK,
        pages_in_flight=int(config.get("HISTORY_WOO_PAGES_IN_FLIGHT", 4)),
    )
    source: Callable[[Reading], Iterator[Chunk]]
    if isinstance(client, AdminClient):
        source = partial(shopify_chunks, client, kind)
    elif isinstance(client, WooAdminClient):
        source = partial(woo_chunks, client, kind)
    else:
        raise NotConnected("no history for this platform")
    if config.get("HISTORY_PREFETCH", False):
        return prefetched(source, reading)  # read and parsed a chunk ahead, while the database applies one
    return (chunk for chunk in source(reading))


def progress(row: HistoryImport, now: datetime | None = None) -> dict[str, Any]:
    """Rows done of the total (customers and orders), and an estimate of the seconds left at the rate so far."""
    done = row.customers_done + row.orders_done
    totals = (row.customers_total, row.orders_total)
    total = sum(t for t in totals if t is not None) if any(t is not None for t in totals) else None
    left: float | None = None
    if row.status == "running" and row.started_at is not None and total and done:
        elapsed = ((now or utcnow()) - row.started_at).total_seconds()
        unknown = row.orders_total is None  # the orders' total is known once their phase starts
        left = None if unknown else max(0.0, (total - done) * elapsed / done)
    return {"done": done, "total": total, "seconds_left": round(left) if left is not None else None}


def describe(row: HistoryImport) -> dict[str, Any]:
    """The import as the admin API and the command show it."""
    return {
        "status": row.status,
        "phase": row.phase,
        "earn_points": row.earn_points,
        "tiers_from_past": row.tiers_from_past,
        "cutoff_at": row.cutoff_at.isoformat(),
        "customers": {"done": row.customers_done, "total": row.customers_total},
        "orders": {"done": row.orders_done, "total": row.orders_total},
        "failed": row.failed,
        "last_error": row.last_error,
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        **progress(row),
    }


def resume_stalled(app: Flask) -> None:
    """Scheduler step: imports waiting for Shopify, or `running` with no progress for STALLED_AFTER (their job
    died with its worker), enqueued again. The job lock keeps a live runner alone."""
    now = utcnow()
    rows = db.session.execute(
        select(HistoryImport.store_id).where(
            ((HistoryImport.status == "waiting") & (HistoryImport.updated_at < now - WAITING_RECHECK))
            | (HistoryImport.status.in_(("queued", "running")) & (HistoryImport.updated_at < now - STALLED_AFTER))
        )
    ).scalars()
    ids = list(rows)
    db.session.rollback()
    for store_id in ids:
        enqueue(store_id)


def on_bulk_finished(session: Session, store: Store, event: BulkOperationFinished) -> None:
    """Pipeline handler for bulk_operations/finish: the store's import, if one waits for this operation,
    enqueued after the commit."""
    row = history_import(session, store.id)
    if row is None or row.status not in ("waiting", "running"):
        return
    if any((cursor or {}).get("operation") == event.operation_id for cursor in row.cursor.values()):
        store_id = store.id
        on_commit(session, lambda: enqueue(store_id))
