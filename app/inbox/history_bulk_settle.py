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

Crash safety: the flag is written in the chunk's transaction; `settle_phase` runs in transactions of its own under
the store's lock and clears the flag in its last. A crash before that leaves the flag, the import `running`, and
the resumed run does it all again (it is computed from the rows: idempotent; a batch already done writes nothing).
docs/history-import.md, "What readers see during an import".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.inbox import history_bulk_sql as sql
from app.inbox.history_apply import locked_store
from app.platform.types import utcnow
from app.records import order_days
from app.records.history import history_import
from app.records.models import Customer

log = logging.getLogger(__name__)

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


def settle_phase(session: Session, store_id: int, renew: Callable[[], Any] = lambda: None) -> bool:
    """The deferred work, if any, committed; whether there was any. The store's customers a batch at a time
    (HISTORY_SETTLE_BATCH, by id), each batch in its own transaction under the store's lock: their totals in one
    statement, their chains (order_days.relink: one window over their orders); then, under the lock again, every
    day of the rollup recounted and the flag cleared. `renew`: the runner's lease, between batches.

    Why batches: done in one transaction, the relink of every order of the store held the lock, and every webhook
    of the store with it, for ~40 s at a million orders (bench/README.md, "The end step in batches"). Between two
    batches a webhook recomputes its customers' totals and chains from the rows as always, so each customer ends
    exact whichever comes last; a customer created meanwhile has a higher id than those done, and the last batch
    reads the ids under the lock. The days are recounted last, once every chain is final."""
    if not _pending(session, store_id):
        return False
    _planned_with_the_store(session, store_id)
    after, size = 0, int(current_app.config.get("HISTORY_SETTLE_BATCH", 5000))
    held: list[float] = []  # seconds under the lock, per transaction (the log line below; bench/README.md)
    while True:
        started = time.monotonic()
        store = locked_store(session, store_id)
        if not _pending(session, store_id):  # another runner did it meanwhile
            session.commit()
            return True
        ids = list(
            session.scalars(
                select(Customer.id)
                .where(Customer.store_id == store_id, Customer.id > after)
                .order_by(Customer.id)
                .limit(size)
            )
        )
        if not ids:
            break  # the lock still held: the days and the flag below
        driver: Any = session.connection().connection.driver_connection  # psycopg 3, in the session's transaction
        params = {"store": store_id, "now": utcnow(), "currency": store.currency, "ids": ids}
        driver.cursor().execute(sql.SETTLE_TOTALS, params)
        session.expire_all()  # the customers' totals were written behind the ORM's back
        order_days.relink(session, store_id, ids)
        session.commit()
        held.append(time.monotonic() - started)
        renew()
        after = ids[-1]
    order_days.recount_store(session, store_id)
    row = history_import(session, store_id)
    if row is None:
        raise LookupError("import gone")
    row.cursor = {key: value for key, value in row.cursor.items() if key != PENDING}
    session.commit()
    held.append(time.monotonic() - started)
    log.info(
        "history.settled",
        extra={"store_id": store_id, "batches": len(held), "held": round(sum(held), 2), "longest": round(max(held), 2)},
    )
    return True


def _planned_with_the_store(session: Session, store_id: int) -> None:
    """ANALYZE the store's customers and orders, committed, when the planner's estimate of the store's rows in
    either is under half of what the import wrote there.

    Why: the import's own rule (history_bulk_sql.STALE_TABLES) analyses a table that grew past double, which a
    store imported beside another of its size, or beside a thousand, never makes it; planned with statistics
    taken before the store had rows (one customer, one order), the batches' totals ran as nested loops that
    aggregate the store's orders once per customer: minutes at 100,000 orders (bench/README.md, "The end step's
    statistics"). EXPLAIN's estimate costs a plan, not a scan; ANALYZE reads a fixed sample (PostgreSQL's
    docs, "ANALYZE") and takes no lock that webhooks' writes wait for."""
    row = history_import(session, store_id)
    if row is None:
        return
    written = {"customers": row.customers_done, "orders": row.orders_done}
    driver: Any = session.connection().connection.driver_connection  # psycopg 3, in the session's transaction
    cursor = driver.cursor()
    stale = []
    for table, count in written.items():
        # A literal (our table name, our integer id), so the estimate is the one a plan for this store gets.
        explain = f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {table} WHERE store_id = {int(store_id)}"  # noqa: S608
        cursor.execute(explain)
        (plan,) = cursor.fetchone()
        if plan[0]["Plan"]["Plan Rows"] * 2 < count:
            stale.append(table)
    if stale:
        cursor.execute(f"ANALYZE {', '.join(stale)}")  # names from the dict above, no input
    session.commit()


def _pending(session: Session, store_id: int) -> bool:
    row = history_import(session, store_id)
    if row is not None:
        session.expire(row)  # read anew: under the lock, another runner's commit shows
        row = history_import(session, store_id)
    return row is not None and bool(row.cursor.get(PENDING))
