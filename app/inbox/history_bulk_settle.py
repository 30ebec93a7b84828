"""The customer-level work an orders' phase defers for its past chunks (inbox/history_bulk.py), done once at its end.

Why: with a customer for every few orders, every chunk of 5,000 orders touches about one customer per order, so
each chunk recomputed its customers' totals and rewrote their chains (the Overview's previous/next links, records/
order_days.py) from all their orders so far: the same customers' totals five times over a million orders, and a
window over a growing share of the store's orders per chunk (bench/README.md, "Where the orders' phase goes").
A chunk whose orders are all past (placed before the store's cut-off) starts nothing shopper-facing, and what
its followers take (points, when the merchant chose them) reads the orders, not these totals (loyalty/tiers.
amount_spent); such a chunk writes its orders with their own derived columns, marks the import `pending` here, and
leaves the totals, the chains and the daily rollup to `settle_phase`. A chunk with a present order keeps the
per-chunk work, so its customers' totals and chains are exact when followers act; so do the webhooks (their
customers' totals and chains recomputed from the rows, the imported ones included).

Crash safety: the flag is written in the chunk's transaction; `settle_phase` runs in its own transaction under the
store's lock and clears the flag in it. A crash before it leaves the flag, the import `running`, and the resumed
run does it (it is computed from the rows: idempotent). docs/history-import.md, "What readers see during an import".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.inbox import history_bulk_sql as sql
from app.platform.locks import lock_store
from app.platform.types import utcnow
from app.records import order_days
from app.records.history import history_import
from app.stores.models import Store

#: The import's cursor key while customer-level work waits for the end of the orders' phase.
PENDING = "settle"


def defer(session: Session, store_id: int) -> None:
    """In a past chunk's transaction: the end of the phase has customers' totals and chains to settle."""
    row = history_import(session, store_id)
    if row is None:
        raise LookupError("import gone")
    if not row.cursor.get(PENDING):
        row.cursor = {**row.cursor, PENDING: "pending"}
        session.flush()  # before any expire_all of the chunk discards it


def settle_phase(session: Session, store_id: int) -> bool:
    """The deferred work, if any: the store's customers' totals in one statement, then its chains and rollup
    (order_days.rebuild: one window over the store's orders, every day recounted), and the flag cleared, in one
    transaction under the store's lock, committed. Whether there was any."""
    row = history_import(session, store_id)
    if row is None or not row.cursor.get(PENDING):
        return False
    store = session.get(Store, store_id)
    if store is None:
        raise LookupError("store gone")
    lock_store(session, store_id)
    session.refresh(store)
    session.expire(row)
    row = history_import(session, store_id)  # read under the lock
    if row is not None and row.cursor.get(PENDING):
        driver: Any = session.connection().connection.driver_connection  # psycopg 3, in the session's transaction
        params = {"store": store_id, "now": utcnow(), "currency": store.currency}
        driver.cursor().execute(sql.SETTLE_TOTALS, params)
        session.expire_all()  # the customers' totals were written behind the ORM's back
        order_days.rebuild(session, store_id)
        row = history_import(session, store_id)
        if row is None:
            raise LookupError("import gone")
        row.cursor = {key: value for key, value in row.cursor.items() if key != PENDING}
    session.commit()
    return True
