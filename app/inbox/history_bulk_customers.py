"""The bulk path of a history import's customers, on PostgreSQL: COPY into staging, set-based writes, then the
pipeline's per-account handlers, one chunk per transaction with the import's cursor.

Why: the batch path (inbox/history_apply.py) resolves, creates and updates each account through the ORM, about a
hundred customers a second on the shared machine (bench/README.md). Here one chunk of customers, parsed by the
same connectors' parsers, is applied in one transaction under the store's lock:
1. the rows the chunk names are read in one query per kind of key, and each account snapshot's target decided by
   records/customers.resolve_customer's rules: the account by its platform id, else a guest by its e-mail (who
   signed up), else a new row;
2. the snapshots go to a staging table by COPY; new accounts are inserted and the rows found updated by two
   statements that spell the detail rules (inbox/history_bulk_customers_sql.py: newer-or-blank, the account's
   profile over a guest order's, the e-mail key), and they are named to the listeners of customers' writes
   (records/bulk.written, _name_written);
3. then, as the pipeline does after record-keeping, per account: a row found has its totals marked for the
   deferred refresh (a new one has no orders and is not looked up), the guards (compliance keeps an erased
   account erased) and the handlers after the followers (loyalty's signup reward, once per account by its
   ledger source key, set-based: ACCOUNTS_HOOKS), with the rows found preloaded, and the batch's
   deferred work (inbox/batch_derived.py: totals, loyalty accounts) before the commit. No message is sent: the
   same handlers the batch path runs, and they send none for a customer;
4. what the statements do not cover goes through the batch path in the same transaction: a document that did
   not parse, carries more than one event or a guest's snapshot, an account whose e-mail is another account's
   or whose e-mail names a guest to merge, and every document that shares a key (platform id, e-mail, a row
   found) with another of the chunk: applied apart from the others, each keeps the order-free result its rules
   give. Then the cursor and counts are written and the chunk commits (history_apply._apply), so a crash
   re-applies nothing committed and loses nothing that was not.
If the chunk fails here, it is applied again by the batch path (which falls back to a document at a time).
docs/history-import.md, "How it is written".
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from app.inbox import batch_derived, history_bulk
from app.inbox import history_bulk_customers_sql as sql
from app.inbox.history_apply import Document, apply_rest, locked_store
from app.inbox.pipeline import Handler, after, guards
from app.platform.sql import chunks, in_keys
from app.platform.types import utcnow
from app.records import batch_rows, batch_scope, orders
from app.records import bulk as bulk_names
from app.records.customers import find_by_platform_id
from app.records.models import Customer
from app.records.models.customer import normalise_email, tags_text
from app.records.phones import to_e164
from app.stores.models import Store
from connectors.events import CustomerChanged, CustomerSnapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Held:
    """A customer row the chunk names, as it is before the chunk."""

    id: int
    platform_id: str | None
    email_key: str | None


@dataclass(frozen=True)
class _Account:
    """An account snapshot the statements apply, and the row it lands on (None: a new one)."""

    event: CustomerChanged
    target: int | None


def apply_chunk(
    session: Session, store_id: int, kind: str, documents: Sequence[Document], cursor: dict[str, Any]
) -> int:
    """The runner's one entry: customers here where the bulk path applies, orders to inbox/history_bulk.py;
    returns how many documents failed."""
    if kind != "customers":
        return history_bulk.apply_chunk(session, store_id, kind, documents, cursor)
    return history_bulk.with_fallback(session, store_id, kind, documents, cursor, _apply)


def _apply(session: Session, store_id: int, documents: Sequence[Document], cursor: dict[str, Any]) -> int:
    store = locked_store(session, store_id)
    now = utcnow()
    driver: Any = session.connection().connection.driver_connection  # psycopg 3, in the session's transaction
    history_bulk.analyse_stale(driver.cursor(), len(documents))
    bulk, rest = _split(session, store_id, documents)
    if bulk:
        batch_scope.begin(session)
        _write(session, store, bulk, now)
        held = _name_written(session, store, bulk)
        _after_record_keeping(session, store, bulk, now)
        del held  # the rows' identities were held for the hooks' naming (_name_written)
        batch_scope.end(session)
    return apply_rest(session, store_id, "customers", rest, cursor, counted=len(documents))


def _snapshots(document: Document) -> list[CustomerSnapshot]:
    events = [] if isinstance(document.events, Exception) else document.events
    return [e.customer for e in events if isinstance(e, CustomerChanged)]


def _split(session: Session, store_id: int, documents: Sequence[Document]) -> tuple[list[_Account], list[Document]]:
    """(the account snapshots the statements apply, the documents left to the batch path)."""
    snaps = [_snapshots(d) for d in documents]
    by_pid, by_key = _held(session, store_id, [s for found in snaps for s in found])
    keys = [set().union(*(_keys(s, by_pid, by_key) for s in found)) for found in snaps]
    shared = Counter(k for found in keys for k in found)
    bulk: list[_Account] = []
    rest: list[Document] = []
    for document, found, named in zip(documents, snaps, keys, strict=True):
        single = not isinstance(document.events, Exception) and len(document.events) == 1 and len(found) == 1
        target = _target(found[0], by_pid, by_key) if single and found[0].platform_id else False
        if target is False or any(shared[k] > 1 for k in named):
            rest.append(document)
        else:
            bulk.append(_Account(CustomerChanged(found[0]), target))
    return bulk, rest


def _held(session: Session, store_id: int, snaps: list[CustomerSnapshot]) -> tuple[dict[str, _Held], dict[str, _Held]]:
    """The store's rows these snapshots name, by platform id and by e-mail key (one query for each kind of key)."""
    pids = sorted({s.platform_id for s in snaps if s.platform_id})
    emails = sorted({k for s in snaps if (k := normalise_email(s.email))})
    by_pid: dict[str, _Held] = {}
    by_key: dict[str, _Held] = {}
    columns = select(Customer.id, Customer.platform_id, Customer.email_key).where(Customer.store_id == store_id)
    for column, wanted in ((Customer.platform_id, pids), (Customer.email_key, emails)):
        for chunk in chunks(wanted, 5000):  # one bound array each (platform/sql.in_keys): the chunk at once
            for row in session.execute(columns.where(in_keys(session, column, chunk))):
                held = _Held(row.id, row.platform_id, row.email_key)
                if held.platform_id:
                    by_pid[held.platform_id] = held
                if held.email_key:
                    by_key[held.email_key] = held
    return by_pid, by_key


def _keys(snap: CustomerSnapshot, by_pid: dict[str, _Held], by_key: dict[str, _Held]) -> set[tuple[str, Any]]:
    """What applying the snapshot reads or writes: its platform id and e-mail key, and the rows they find with
    the keys those hold (a row whose e-mail another snapshot of the chunk claims, for one)."""
    key = normalise_email(snap.email)
    named: set[tuple[str, Any]] = {("pid", snap.platform_id), ("email", key)}
    for held in (by_pid.get(snap.platform_id or ""), by_key.get(key or "")):
        if held is not None:
            named |= {("row", held.id), ("pid", held.platform_id), ("email", held.email_key)}
    return {k for k in named if k[1] is not None}


def _target(snap: CustomerSnapshot, by_pid: dict[str, _Held], by_key: dict[str, _Held]) -> int | None | bool:
    """The row resolve_customer would write (None: a new one), or False when it would merge a guest, keep an
    e-mail with another account, or make a new row without the key (left to the batch path)."""
    key = normalise_email(snap.email)
    by_id = by_pid.get(snap.platform_id or "")
    by_mail = by_key.get(key) if key else None
    if by_id is not None and by_mail is not None and by_id.id != by_mail.id:
        return False
    found = by_id or by_mail
    if found is not None and found.platform_id and found.platform_id != snap.platform_id:
        return False
    return found.id if found is not None else None


def _write(session: Session, store: Store, bulk: list[_Account], now: datetime) -> None:
    driver: Any = session.connection().connection.driver_connection  # psycopg 3, in the session's transaction
    cursor = driver.cursor()
    new = sum(1 for a in bulk if a.target is None)
    ids = iter([row[0] for row in cursor.execute(sql.NEXT_IDS, {"n": new}).fetchall()] if new else [])
    rows = [_row(a.event.customer, a.target if a.target is not None else next(ids), a.target is None) for a in bulk]
    cursor.execute(sql.STAGING)
    with cursor.copy(f"COPY hist_customer_rows ({', '.join(sql.COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    params = {"store": store.id, "now": now, "currency": store.currency}
    cursor.execute(sql.INSERT_NEW, params)
    cursor.execute(sql.UPDATE_HELD, params)
    session.expire_all()  # written behind the ORM's back


def _name_written(session: Session, store: Store, bulk: list[_Account]) -> list[Customer]:
    """Name the chunk's accounts to the listeners of customers' writes (records/bulk.py: loyalty's storefront balances
    are read by platform id, which a new account or a guest who signed up now has): the rows were written above,
    by the driver's statements the listeners cannot see. Returns their rows loaded with the platform id only, to
    be held while the chunk is applied: the listener maps customer ids to platform ids from the session's
    identity map, so neither this naming nor the accounts hooks' (loyalty's ledger and accounts statements)
    queries them again (10 queries per 5,000 ids each, bench/README.md)."""
    ids = [a.target for a in bulk if a.target is not None]
    pids = [a.event.customer.platform_id for a in bulk if a.target is None]
    stmt = select(Customer).options(load_only(Customer.store_id, Customer.platform_id))
    held: list[Customer] = []
    for column, keys in ((Customer.id, ids), (Customer.platform_id, pids)):
        if keys:
            held += session.scalars(stmt.where(Customer.store_id == store.id, in_keys(session, column, keys))).all()
    bulk_names.written(session, store.id, [c.id for c in held])
    return held


def _row(snap: CustomerSnapshot, customer_id: int, is_new: bool) -> tuple[Any, ...]:
    """The staged row: records/customers._apply_details' values (tags as the column holds them, the phone in
    E.164 when it is sure)."""
    details = [tags_text(snap.tags) if f == "tags" else getattr(snap, f) for f in sql.DETAILS[:-1]]
    e164 = to_e164(snap.phone, snap.phone_country)
    key = normalise_email(snap.email)
    return (customer_id, is_new, snap.platform_id, snap.email, key, *details, e164, snap.updated_at)


#: A handler's set-based twin for the chunk's accounts: (session, store, their platform ids, now).
AccountsHook = Callable[[Session, Store, Sequence[str], datetime], None]

#: Registered by features (loyalty's init_app: the signup rewards and the accounts' refresh): a pipeline handler
#: after the followers for CustomerChanged -> what the bulk path runs once per chunk instead of it per account.
ACCOUNTS_HOOKS: dict[Handler, AccountsHook] = {}


def register_accounts_hook(replaces: Handler, hook: AccountsHook) -> None:
    """Run `hook` once per chunk, after the chunk's deferred work, in place of `replaces` per account: the hook
    writes what the handler would have written for every account (the comparison tests hold it to that)."""
    ACCOUNTS_HOOKS[replaces] = hook


def _after_record_keeping(session: Session, store: Store, bulk: list[_Account], now: datetime) -> None:
    """What the pipeline runs for a customer event after record-keeping, with the rows preloaded as a batch's; a
    handler with a set-based twin (ACCOUNTS_HOOKS) is replaced by it, run once for the chunk's accounts.

    An account new to the store is neither preloaded nor looked up when no handler without a twin is left: it
    has no orders (its totals were inserted) and the guards look up what they need (compliance: the store's
    erased accounts, read once for the batch)."""
    twins = [ACCOUNTS_HOOKS[h] for h in after(CustomerChanged) if h in ACCOUNTS_HOOKS]
    handlers = tuple(h for h in after(CustomerChanged) if h not in ACCOUNTS_HOOKS)
    looked_up = [a for a in bulk if a.target is not None or handlers]
    batch_rows.preload(session, store.id, [a.event for a in looked_up])  # the rows found, their signup rewards
    for account in bulk:
        event = account.event
        if account.target is not None or handlers:
            customer = find_by_platform_id(session, store.id, event.customer.platform_id or "")
            if customer is None:
                raise LookupError("an account written by the chunk is gone")
            if account.target is not None:  # a new row has no orders: it was inserted with the totals they give
                orders.refresh_customer(session, store, customer)  # marked: the deferred work recomputes them
        for handler in (*guards(CustomerChanged), *handlers):
            handler(session, store, event)
    batch_derived.run_deferred(session, store, now)
    platform_ids = [a.event.customer.platform_id or "" for a in bulk]
    for twin in twins:  # after the guards (an erased account is found no more) and the totals, as the handlers ran
        twin(session, store, platform_ids, now)
