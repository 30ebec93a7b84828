"""One chunk of a store's imported history applied through the webhooks' pipeline, with the import's cursor.

A chunk (at most CHUNK documents: customers or orders, parsed by the connectors' webhook parsers) is one
transaction under the store's lock, exactly like one store part of an inbox batch (inbox/batch.py): the rows
the events name are preloaded in one query per table (records/batch_rows.py), every event goes through
`pipeline.dispatch` (record-keeping with its stale-snapshot rules, the guards, the followers marked), and the
derived work runs once per order and customer before the commit (inbox/batch_derived.py), so the writes go out
as grouped executemany statements. The import's cursor and counts are written in the same transaction: a chunk
and "this chunk is done" commit together, so a crash re-applies at most the chunk that was not committed, and a
restart never applies a committed one again.
Webhooks that arrive meanwhile take the same lock; whichever applies second compares `updated_at` and keeps
the newer snapshot (records/orders.py), so the import and a webhook end the same in either order.
If the chunk fails as a whole, it is applied again with a SAVEPOINT per document: a document that fails is
skipped and counted (`failed`), its neighbours commit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.inbox import batch_derived
from app.inbox.pipeline import dispatch
from app.platform.locks import lock_store
from app.platform.types import utcnow
from app.records import batch_rows, batch_scope
from app.records.history import history_import
from app.stores.models import Store
from connectors.events import Event

log = logging.getLogger(__name__)

#: Documents per transaction: the store's lock is held for one chunk, so a webhook part or a redemption waits
#: for one chunk at most (the inbox's STORE_PART, for the same reason).
CHUNK = 500


@dataclass(frozen=True)
class Document:
    """One customer or order of the history, parsed (or the reason it could not be)."""

    key: str  # the platform id, for the log
    events: list[Event] | Exception


def locked_store(session: Session, store_id: int) -> Store:
    """The store, under its lock and re-read after it, as the inbox does (every history import's writer: the
    batch path, the bulk chunks and the end-of-phase step)."""
    store = session.get(Store, store_id)
    if store is None:
        raise LookupError("store gone")
    lock_store(session, store_id)
    session.refresh(store)
    return store


def apply_chunk(
    session: Session, store_id: int, kind: str, documents: Sequence[Document], cursor: dict[str, Any]
) -> int:
    """Apply the documents and move the import to `cursor` in one transaction; returns how many failed."""
    for savepoints in (False, True):
        try:
            return _apply(session, store_id, kind, documents, cursor, savepoints=savepoints)
        except Exception as exc:  # noqa: BLE001  (the chunk as a whole: again, a document at a time)
            session.rollback()
            if savepoints:
                raise
            log.info(
                "history.chunk_retry", extra={"store_id": store_id, "size": len(documents), "error": type(exc).__name__}
            )
        finally:
            batch_scope.end(session)
    raise AssertionError("unreachable")


def apply_rest(
    session: Session, store_id: int, kind: str, documents: Sequence[Document], cursor: dict[str, Any], *, counted: int
) -> int:
    """The documents the bulk path (inbox/history_bulk.py) left, in its transaction; then the cursor moves past
    all `counted` documents of the chunk and the chunk commits."""
    try:
        return _apply(session, store_id, kind, documents, cursor, savepoints=False, counted=counted)
    finally:
        batch_scope.end(session)


def _apply(
    session: Session,
    store_id: int,
    kind: str,
    documents: Sequence[Document],
    cursor: dict[str, Any],
    *,
    savepoints: bool,
    counted: int | None = None,
) -> int:
    store = locked_store(session, store_id)
    row = history_import(session, store_id)
    if row is None:
        raise LookupError("import gone")
    now = utcnow()
    batch_scope.begin(session)  # the handlers defer and look rows up (records/batch_scope.py), as the inbox's
    parsed = [d.events for d in documents if not isinstance(d.events, Exception)]
    batch_rows.preload(session, store_id, [event for events in parsed for event in events])
    failed = 0
    for document in documents:
        if isinstance(document.events, Exception):  # did not parse: counted and logged, the import goes on
            failed += 1
            log.warning(
                "history.document_failed",
                extra={
                    "store_id": store_id,
                    "kind": kind,
                    "id": document.key,
                    "reason": type(document.events).__name__,
                },
            )
    for document in documents:
        if isinstance(document.events, Exception):
            continue
        if not savepoints:
            for event in document.events:
                dispatch(session, store, event, now)
            continue
        try:
            with session.begin_nested():
                for event in document.events:
                    dispatch(session, store, event, now)
        except Exception as exc:  # noqa: BLE001  (one document: skipped and counted, never the whole import)
            batch_rows.forget(session, store_id)
            failed += 1
            log.warning(
                "history.document_failed", extra={"store_id": store_id, "kind": kind, "reason": type(exc).__name__}
            )
    batch_derived.run_deferred(session, store, now)
    row.cursor = {**row.cursor, kind: cursor}
    row.failed += failed
    done = len(documents) if counted is None else counted
    if kind == "customers":
        row.customers_done += done
    else:
        row.orders_done += done
    session.commit()
    return failed
