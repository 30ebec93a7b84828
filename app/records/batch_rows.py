"""The rows a batch's deliveries name, loaded once per store before the batch is applied.

Looked up one by one (its order, its customer by platform id and by email, each fulfilment and refund of the
snapshot, the redemptions its codes name), a delivery's rows cost 5-6 round trips (bench/README.md measures
the batch path against them). Here the batch parses its deliveries first,
then loads, per store, every order, customer, fulfilment and refund they name in one query per table, and
the lookups in records/customers.py, order_derived.py and order_children.py answer from these maps. Features
add the rows their handlers look up with a preloader (`register`: loyalty's signup rewards and redemptions,
loyalty/preload.py) or load them when their follower runs (referrals/preload.py). No FOR UPDATE: the batch
holds the store's advisory lock (platform/locks.lock_store), which serialises every writer of the store's
order and customer rows.

Why an answer from here is the answer the database would give:
- a key loaded absent (None) stays absent unless this batch creates the row, and every creation site
  registers the new row (`remember`); a key whose holder changes (a guest signs up, an email moves) is
  registered by the code that changes it;
- a row found here is checked on every read: still in the session (not deleted, expunged or rolled back)
  and still holding the key; anything else is a miss, and the caller queries as before;
- a delivery rolled back to its SAVEPOINT drops the store's maps (`forget`): what it added is gone.
Outside a batch (one delivery per transaction, tests, the CLI) there are no maps and every lookup queries.
A group of stores (inbox/batch_group.py) is preloaded at once (`preload_group`): one query per table for all its
stores, each row in its own store's maps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import inspect, or_, select, text
from sqlalchemy.orm import Session

from app.platform.sql import chunks, in_keys
from app.records import batch_scope
from app.records.models import Customer, Fulfillment, Order, OrderRefund
from app.records.models.customer import normalise_email
from connectors.events import (
    CustomerChanged,
    Event,
    FulfillmentChanged,
    OrderChanged,
    OrderDeleted,
    RefundCreated,
    ShipmentEvent,
)

MISS = object()  # not known here: query

# kind -> the attribute that holds the key (a row read back must still hold it); features add theirs (register)
_KEYS = {
    "order": "platform_id",
    "customer_pid": "platform_id",
    "customer_email": "email_key",
    "fulfillment": "platform_id",
    "refund": "platform_id",
}

#: A feature's part of preload, for every store of a group at once: (session, {store id: (its events, its maps)}) ->
#: None. It loads the rows its handlers will look up into maps[kind] (key -> row, None for a key known absent), one
#: query per table and 500 keys for all the group's stores (`store_id IN (...) AND key IN (...)`, each row put in
#: its own store's maps: `by_store`).
Preloader = Callable[[Session, dict[int, tuple[Sequence[Event], dict[str, Any]]]], None]
_PRELOADERS: dict[str, Preloader] = {}


def register(kind: str, key_attribute: str, preloader: Preloader | None = None) -> None:
    """A kind of row a feature looks up during a batch, the attribute that holds its key, and what loads it when
    the batch starts (None: the feature loads it itself, with `store_maps`)."""
    _KEYS[kind] = key_attribute
    if preloader is not None:
        _PRELOADERS[kind] = preloader


def store_maps(session: Session, store_id: int) -> dict[str, Any] | None:
    """The store's maps while its part of a batch is applied (kind -> {key: row or None}); None otherwise."""
    return _rows(session).get(store_id)


def lookup(session: Session, store_id: int, kind: str, key: str) -> Any:
    """The row (or None: known absent) for this key, or MISS when the caller must query."""
    maps = _rows(session).get(store_id)
    if maps is None:
        return MISS
    row = maps[kind].get(key, MISS)
    if row is None or row is MISS:
        return row
    state = inspect(row)
    if not (state.persistent or state.pending) or getattr(row, _KEYS[kind]) != key:
        return MISS  # deleted, merged away, rolled back, or the key moved: the database knows
    return row


def mapped_stores(session: Session, store_id: int) -> list[int]:
    """The stores whose rows this batch maps, this one first (a group of stores, inbox/batch_group.py, holds all
    their locks): a per-store read done lazily can be done for all of them in one query."""
    return [store_id, *sorted(set(_rows(session)) - {store_id})]


def active(session: Session, store_id: int) -> bool:
    """Whether this store's rows are mapped (its part of a batch is being applied)."""
    return store_id in _rows(session)


def remember(session: Session, store_id: int, kind: str, key: str | None, row: Any) -> None:
    """A row this batch created, or that now holds `key`."""
    maps = _rows(session).get(store_id)
    if maps is not None and key is not None:
        maps[kind][key] = row


_NEXT_CUSTOMER_IDS = text("SELECT nextval(pg_get_serial_sequence('customers', 'id')) FROM generate_series(1, :n)")


def new_customer_id(session: Session, store_id: int) -> int | None:
    """An id for a customer the batch creates, drawn ahead from the table's sequence (PostgreSQL), so the new
    row needs no flush of its own to have one: that flush wrote out everything the batch had pending so far, and
    the INSERT went alone, followed by an UPDATE of the details set after it. None outside a batch or on other
    databases (the caller flushes). Ids drawn and not used are gaps, as a rolled-back insert leaves. One pool for
    every store whose rows are mapped (a group of stores, inbox/batch_group.py): one round trip per batch."""
    batch = batch_scope.current(session)
    if batch is None or store_id not in batch.rows or session.get_bind().dialect.name != "postgresql":
        return None
    pool = batch.customer_ids
    if not pool:  # enough for every key the batch found absent, in every store it maps
        absent = sum(
            row is None
            for maps in batch.rows.values()
            for kind in ("customer_pid", "customer_email")
            for row in maps[kind].values()
        )
        with session.no_autoflush:
            pool.extend(session.scalars(_NEXT_CUSTOMER_IDS, {"n": max(absent, 1)}))
        pool.reverse()  # popped in ascending order
    return pool.pop()


def _rows(session: Session) -> dict[int, dict[str, Any]]:
    batch = batch_scope.current(session)
    return batch.rows if batch is not None else {}


def forget(session: Session, store_id: int) -> None:
    """After a SAVEPOINT rollback: the store's lookups query again for the rest of the batch."""
    _rows(session).pop(store_id, None)


def order_codes(order: Order) -> list[str]:
    """The order's discount codes as referral invites are matched: trimmed, upper case."""
    return [c.strip().upper() for c in order.discount_codes or [] if c]


def _keys(events: Iterable[Event]) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {"order": set(), "pid": set(), "email": set(), "fulfillment": set(), "refund": set()}
    for event in events:
        customer = None
        if isinstance(event, OrderChanged):
            snap = event.order
            keys["order"].add(snap.platform_id)
            customer = snap.customer
            keys["refund"].update(r.platform_id for r in snap.refunds)
            keys["fulfillment"].update(f.platform_id for f in snap.fulfillments)
        elif isinstance(event, OrderDeleted):
            keys["order"].add(event.order_id)
        elif isinstance(event, RefundCreated):
            keys["order"].add(event.refund.order_id)
            keys["refund"].add(event.refund.platform_id)
        elif isinstance(event, FulfillmentChanged):
            keys["order"].add(event.fulfillment.order_id)
            keys["fulfillment"].add(event.fulfillment.platform_id)
        elif isinstance(event, ShipmentEvent):
            keys["order"].add(event.order_id)
            keys["fulfillment"].add(event.fulfillment_id)
        elif isinstance(event, CustomerChanged):
            customer = event.customer
        if customer is not None:
            if customer.platform_id:
                keys["pid"].add(customer.platform_id)
            if email := normalise_email(customer.email):
                keys["email"].add(email)
    return keys


def sorted_chunks(values: set[str]) -> Iterable[Sequence[str]]:
    return chunks(sorted(values))  # sorted: the same keys give the same statements


def preload(session: Session, store_id: int, events: Sequence[Event]) -> None:
    """Load the store's rows that these events name (one query per table and 500 keys), then the features'."""
    preload_group(session, {store_id: events})


def preload_group(session: Session, events: dict[int, Sequence[Event]]) -> None:
    """`preload` for several stores at once (inbox/batch_group.py): one query per table and 500 keys for all of
    them, `store_id IN (the stores) AND key IN (every store's keys)`, each row kept in its own store's maps when
    that store named its key (a row of another store of the group with the same key is not its)."""
    batch = batch_scope.current(session)
    if batch is None:
        return
    keys = {store_id: _keys(store_events) for store_id, store_events in events.items()}
    maps: dict[int, dict[str, Any]] = {store_id: {kind: {} for kind in _KEYS} for store_id in events}
    for kind, column, name in (
        ("order", Order.platform_id, "order"),
        ("fulfillment", Fulfillment.platform_id, "fulfillment"),
        ("refund", OrderRefund.platform_id, "refund"),
    ):
        wanted = {store_id: store_keys[name] for store_id, store_keys in keys.items()}
        for store_id, store_wanted in wanted.items():
            maps[store_id][kind].update(dict.fromkeys(store_wanted))
        model = column.class_
        for stores, chunk in by_store(wanted):
            stmt = select(model).where(in_keys(session, model.store_id, stores), in_keys(session, column, chunk))
            for row in session.scalars(stmt):
                key = getattr(row, column.key)
                if key in wanted[row.store_id]:
                    maps[row.store_id][kind][key] = row
    _load_customers(session, keys, maps)
    for load in _PRELOADERS.values():
        load(session, {store_id: (events[store_id], maps[store_id]) for store_id in events})
    batch.rows.update(maps)


def by_store(wanted: dict[int, set[str]]) -> Iterable[tuple[list[int], Sequence[str]]]:
    """(the stores that want any key, a chunk of 500 of all their keys, sorted) for a group's preload query."""
    stores = sorted(store_id for store_id, keys in wanted.items() if keys)
    for chunk in sorted_chunks(set().union(*(wanted[store_id] for store_id in stores))):
        yield stores, chunk


def _load_customers(session: Session, keys: dict[int, dict[str, set[str]]], maps: dict[int, dict]) -> None:
    for store_id, store_keys in keys.items():
        maps[store_id]["customer_pid"].update(dict.fromkeys(store_keys["pid"]))
        maps[store_id]["customer_email"].update(dict.fromkeys(store_keys["email"]))
    stores = sorted(s for s, k in keys.items() if k["pid"] or k["email"])
    pids = set().union(*(keys[s]["pid"] for s in stores))
    emails = set().union(*(keys[s]["email"] for s in stores))
    for pid_chunk, email_chunk in _paired_chunks(pids, emails):
        stmt = select(Customer).where(
            in_keys(session, Customer.store_id, stores),
            or_(in_keys(session, Customer.platform_id, pid_chunk), in_keys(session, Customer.email_key, email_chunk)),
        )
        for customer in session.scalars(stmt):
            by_pid, by_email = maps[customer.store_id]["customer_pid"], maps[customer.store_id]["customer_email"]
            if customer.platform_id in by_pid:
                by_pid[customer.platform_id] = customer
            if customer.email_key in by_email:
                by_email[customer.email_key] = customer


def _paired_chunks(a: set[str], b: set[str]) -> Iterable[tuple[Sequence[str], Sequence[str]]]:
    first, second = list(sorted_chunks(a)), list(sorted_chunks(b))
    for i in range(max(len(first), len(second))):
        yield (first[i] if i < len(first) else ()), (second[i] if i < len(second) else ())
