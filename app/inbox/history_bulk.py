"""The bulk path of a history import's orders, on PostgreSQL: COPY into staging, set-based upserts, one chunk per
transaction with the import's cursor.

Why: the batch path (inbox/history_apply.py) keeps every rule by sending each order through the webhooks'
pipeline, at about a hundred orders a second (bench/README.md). Here one chunk of orders, parsed by the same
connectors' parsers, is applied in one transaction under the store's lock:
1. each order's customer: set-based in the common case (inbox/history_held.py: the record already held, left as
   it is by the order's snapshot), otherwise by the webhooks' own identity rules (records/customers.
   resolve_customer, rows preloaded in one query); the pipeline's guards run per event, as on the batch path;
2. the orders, refunds and fulfilments go to staging tables by COPY and into the real tables by
   `INSERT ... SELECT ... ON CONFLICT` statements that spell the webhooks' convergence rules in SQL
   (inbox/history_bulk_sql.py: the newer `updated_at` wins, one-way facts merged with LEAST);
3. the orders' derived columns and the customers' totals are recomputed set-based from the rows; the
   Overview's rollup and chains through records/order_days (marked here, settled before the commit); a chunk of
   past orders only leaves those three to the end of the phase (inbox/history_bulk_settle.py);
4. the followers get the orders they take (present ones; past ones when the merchant chose points), through
   the batch's own deferred work (inbox/batch_derived.py), so points follow the loyalty rules unchanged; past
   orders a follower's set-based twin wrote (inbox/history_bulk_past.py: loyalty's) are not handed to it;
5. what the set-based statements do not cover goes through the batch path in the same transaction: a document
   that did not parse, more than one event, an order restored, named twice in the chunk, cancelled, carrying
   discount codes (the handlers after the followers act on codes and cancellations: a redemption), or with an
   early deletion waiting for it. Then the cursor and counts are written, and the chunk commits
   (history_apply._apply), so a crash re-applies nothing committed and loses nothing that was not.
If the chunk fails here, it is applied again by the batch path (which falls back to a document at a time).
docs/history-import.md, "How it is written".
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.inbox import batch_derived, history_apply, history_bulk_past, history_bulk_settle, history_held
from app.inbox import history_bulk_sql as sql
from app.inbox.history_apply import Document
from app.inbox.pipeline import guards
from app.platform.sql import in_keys
from app.platform.types import utcnow
from app.records import batch_rows, batch_scope, followers, order_days
from app.records.customers import resolve_customer
from app.records.history import policy
from app.records.models import OrderDeletion
from app.records.orders import PAID_STATES, defer_order
from app.stores.models import Store
from connectors.events import CustomerChanged, OrderChanged, OrderSnapshot, ShippingAddress

log = logging.getLogger(__name__)


def chunk_size() -> int:
    """Documents per transaction on the bulk path (HISTORY_BULK_CHUNK, 5000): one COPY per table and a few
    statements per chunk, so larger chunks than the batch path's 500; the store's lock is held for one chunk."""
    return int(current_app.config.get("HISTORY_BULK_CHUNK", 5000))


def enabled(session: Session, kind: str) -> bool:
    """Orders (here) and customers (inbox/history_bulk_customers.py) on PostgreSQL, unless HISTORY_BULK=0 (then
    every chunk takes the batch path)."""
    if kind not in ("orders", "customers") or not current_app.config.get("HISTORY_BULK", True):
        return False
    return session.get_bind().dialect.name == "postgresql"


def apply_chunk(
    session: Session, store_id: int, kind: str, documents: Sequence[Document], cursor: dict[str, Any]
) -> int:
    """The runner's one entry: the bulk path where it applies, else the batch path; returns how many failed."""
    return with_fallback(session, store_id, kind, documents, cursor, _apply)


#: A bulk path's chunk: (session, store id, documents, cursor) -> how many documents failed.
BulkApply = Callable[[Session, int, Sequence[Document], dict[str, Any]], int]


def with_fallback(
    session: Session, store_id: int, kind: str, documents: Sequence[Document], cursor: dict[str, Any], bulk: BulkApply
) -> int:
    """`bulk` where the bulk path is on, else the batch path; a chunk that fails on `bulk` is rolled back and
    applied by the batch path (the orders' and the customers' bulk paths alike)."""
    if not enabled(session, kind):
        return history_apply.apply_chunk(session, store_id, kind, documents, cursor)
    try:
        return bulk(session, store_id, documents, cursor)
    except Exception as exc:  # noqa: BLE001  (the batch path applies the chunk instead, a document at a time if need be)
        session.rollback()
        log.info(
            "history.bulk_retry", extra={"store_id": store_id, "size": len(documents), "reason": type(exc).__name__}
        )
    finally:
        batch_scope.end(session)
    return history_apply.apply_chunk(session, store_id, kind, documents, cursor)


def _apply(session: Session, store_id: int, documents: Sequence[Document], cursor: dict[str, Any]) -> int:
    store = history_apply.locked_store(session, store_id)  # the chunk's transaction is the only writer now
    now = utcnow()
    bulk, rest = _split(session, store_id, documents)
    if bulk:
        batch_scope.begin(session)
        _write(session, store, bulk, now)
        batch_derived.run_deferred(session, store, now)  # the followers' orders (marked in _write), their work
        batch_scope.end(session)
    return history_apply.apply_rest(session, store_id, "orders", rest, cursor, counted=len(documents))


def _split(session: Session, store_id: int, documents: Sequence[Document]) -> tuple[list[OrderChanged], list[Document]]:
    """(the order events the set-based statements apply, the documents left to the batch path)."""
    bulk: list[tuple[OrderChanged, Document]] = []
    rest: list[Document] = []
    seen: set[Any] = set()  # order ids, ("r", refund id), ("f", parcel id) met so far in the chunk
    for document in documents:
        events = document.events
        event = events[0] if not isinstance(events, Exception) and len(events) == 1 else None
        if not isinstance(event, OrderChanged) or event.restored or _special(event.order, seen):
            rest.append(document)
        else:
            bulk.append((event, document))
    waiting = _deletions(session, store_id, [e.order.platform_id for e, _ in bulk])
    rest += [d for e, d in bulk if e.order.platform_id in waiting]
    return [e for e, _ in bulk if e.order.platform_id not in waiting], rest


def _special(snap: OrderSnapshot, seen: set[Any]) -> bool:
    keys = [snap.platform_id, *[("r", r.platform_id) for r in snap.refunds]]
    keys += [("f", f.platform_id) for f in snap.fulfillments]
    special = bool(snap.discount_codes) or snap.cancelled_at is not None or not seen.isdisjoint(keys)
    seen.update(keys)
    return special


def _deletions(session: Session, store_id: int, pids: list[str]) -> set[str]:
    """The chunk's orders with an early deletion waiting: one query (PostgreSQL only here: one bound array)."""
    stmt = select(OrderDeletion.order_platform_id).where(
        OrderDeletion.store_id == store_id, in_keys(session, OrderDeletion.order_platform_id, sorted(pids))
    )
    return set(session.scalars(stmt))


def _write(session: Session, store: Store, bulk: list[OrderChanged], now: datetime) -> None:
    customer_ids = history_held.held(session, store.id, bulk)  # the common case, set-based
    rest = [e.order.customer for e in bulk if e.order.platform_id not in customer_ids and e.order.customer]
    batch_rows.preload(session, store.id, [CustomerChanged(snap) for snap in rest])
    for event in bulk:
        snap = event.order
        if snap.platform_id not in customer_ids:  # the rest through the webhooks' rules, in the chunk's order
            customer = resolve_customer(session, store, snap.customer) if snap.customer else None
            customer_ids[snap.platform_id] = customer.id if customer is not None else None
        for guard in guards(OrderChanged):  # after record-keeping, as the pipeline runs them
            guard(session, store, event)
    session.flush()
    driver: Any = session.connection().connection.driver_connection  # psycopg 3, in the session's transaction
    cursor = driver.cursor()
    params = {"store": store.id, "now": now, "currency": store.currency}
    analyse_stale(cursor, len(bulk))
    cursor.execute(sql.STORE_IS_NEW, params)
    new_store = cursor.fetchone()[0]
    cursor.execute(sql.STAGING)
    _copy(cursor, "hist_orders", sql.ORDER_COLUMNS, (_order_row(e.order, customer_ids) for e in bulk))
    _copy(cursor, "hist_refunds", sql.REFUND_COLUMNS, (_refund_row(r) for e in bulk for r in e.order.refunds))
    fulfillments = (_fulfillment_row(f) for e in bulk for f in e.order.fulfillments)
    _copy(cursor, "hist_fulfillments", sql.FULFILLMENT_COLUMNS, fulfillments)
    cursor.execute(sql.ANALYZE_STAGING)
    found = policy(session, store.id)
    # Every order past: the customers' totals, chains and days wait for the phase's end (history_bulk_settle.py).
    deferred = found is not None and all(found.past_at(e.order.created_at) for e in bulk)
    touched: list[int] = []
    if not deferred:
        cursor.execute(sql.FORMER_CUSTOMERS, params)
        touched = sorted({row[0] for row in cursor.fetchall()})
    for statement in (sql.UPSERT_REFUNDS, sql.UPSERT_FULFILLMENTS):
        cursor.execute(statement, params)
    if new_store:  # ANALYZE samples this transaction's own rows too: the store's first chunk becomes known
        cursor.execute("ANALYZE order_refunds, fulfillments")
    cursor.execute(sql.STAGE_DERIVED, params)  # the orders' derived columns, from their refunds and parcels
    if not deferred:  # (deferred: new orders go in unlinked, settle_phase links them)
        cursor.execute(sql.STAGE_CHAIN, {**params, "ids": touched})  # and their place in the customer's chain
    cursor.execute("ANALYZE hist_derived, hist_chain")
    cursor.execute(sql.UPSERT_ORDERS, params)
    if new_store:
        cursor.execute("ANALYZE orders")
    if not deferred:
        cursor.execute(sql.STAGE_TOTALS, {**params, "ids": touched})
        cursor.execute("ANALYZE hist_totals")
        cursor.execute(sql.CUSTOMER_TOTALS, params)
        cursor.execute(sql.CUSTOMER_NO_ORDERS, {**params, "ids": touched})
    session.expire_all()  # the orders and the customers' totals were written behind the ORM's back
    if deferred:
        history_bulk_settle.defer(session, store.id)
    else:
        order_days.mark_customers(session, store.id, touched)  # their chains and days, settled before the commit
        order_days.mark_days(session, store.id, *(e.order.created_at for e in bulk))
    takers = [f.name for f in followers.followers() if found is not None and f.takes_past(found)]
    past = [e.order.platform_id for e in bulk if found is not None and found.past_at(e.order.created_at)]
    taken = history_bulk_past.taken(session, store, takers, past, now)  # the others go to the followers, one by one
    for pid, placed in ((e.order.platform_id, e.order.created_at) for e in bulk):
        if (found is None or not found.past_at(placed) or takers) and pid not in taken:
            defer_order(session, store, pid)


def analyse_stale(cursor: Any, least: int) -> None:
    """ANALYZE the store's tables whose statistics lag what the import wrote (history_bulk_sql.STALE_TABLES): both
    bulk paths, before their chunk's reads (the customers' ran on the empty table's statistics: its reads by
    `= ANY(keys)` became a filter over every customer of the store, quadratic in the import, bench/README.md)."""
    cursor.execute(sql.STALE_TABLES, {"least": least})
    for (table,) in cursor.fetchall():
        cursor.execute(f"ANALYZE {table}")  # one of the names in the statement, no input


def _copy(cursor: Any, table: str, columns: Sequence[str], rows: Any) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


_ADDRESS = tuple(field.name for field in dataclasses.fields(ShippingAddress))


def _order_row(snap: OrderSnapshot, customer_ids: dict[str, int | None]) -> tuple[Any, ...]:
    """records/orders._copy_snapshot's columns, and the paid candidate apply_order merges with min()."""
    line_items = [
        {
            "id": li.platform_id,
            "product_id": li.product_id,
            "variant_id": li.variant_id,
            "title": li.title,
            "quantity": li.quantity,
            "price": str(li.price),
            **({"image_url": li.image_url} if li.image_url else {}),
        }
        for li in snap.line_items
    ]
    address = snap.shipping_address
    shipping = {name: getattr(address, name) for name in _ADDRESS} if address else None  # asdict's, flat
    paid = snap.paid_at or (snap.updated_at if snap.financial_status in PAID_STATES else None)
    return (
        snap.platform_id, customer_ids.get(snap.platform_id), snap.name, snap.currency, snap.total, snap.subtotal,
        snap.financial_status, snap.fulfillment_status, snap.platform_status, snap.locale,
        json.dumps(list(snap.discount_codes)) if snap.discount_codes else "[]", json.dumps(line_items),
        json.dumps(shipping) if shipping is not None else None, snap.phone, snap.payment_fingerprint,
        snap.referral_token, snap.created_at, snap.updated_at, snap.cancelled_at, paid,
    )  # fmt: skip


def _refund_row(refund: Any) -> tuple[Any, ...]:
    return (refund.order_id, refund.platform_id, refund.amount, refund.currency, refund.created_at)


def _fulfillment_row(f: Any) -> tuple[Any, ...]:
    status = f.shipment_status[:32] if f.shipment_status else None
    delivered = (f.delivered_at or f.updated_at) if status == "delivered" else None
    return (
        f.order_id, f.platform_id, f.status[:32], status, f.created_at, f.updated_at, f.tracking_company,
        f.tracking_number, f.tracking_url, f.estimated_delivery_at, delivered,
    )  # fmt: skip
