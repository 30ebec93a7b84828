"""The shape of the inbox batch's statements, so that many rows share one.

- Key lists in WHERE clauses: cut to a size every database takes, and sent as one array on PostgreSQL. The
  batch (records/batch_rows.py, batch_derived.py, order_derived.py, loyalty_refresh.py) looks rows up by
  hundreds of keys at a time, once per table and store.
- SET lists: the derived columns of a row are written together (`set_together`), so the rows a batch
  recomputes go out as one UPDATE executemany per table.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import ARRAY, ColumnElement, any_, bindparam, inspect, select
from sqlalchemy.exc import IntegrityError, NoResultFound
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.util import identity_key

T = TypeVar("T")


def chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """IN lists of at most `size` (SQLite caps bound parameters per statement)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def in_keys(
    session: Session, column: ColumnElement[Any] | QueryableAttribute[Any], keys: Sequence[Any]
) -> ColumnElement[bool]:
    """`column IN (keys)`; on PostgreSQL `column = ANY(:array)`, one bound array for all the keys. An expanded
    IN list sends a parameter per key, which SQLAlchemy renders and psycopg parses and dumps key by key on every
    execution (psycopg caches no statement with over 50 parameters): 4.6% of the inbox worker's CPU samples at
    500 keys a list. The ANY form is one statement text whatever the number of keys, and uses the same indexes.
    https://www.postgresql.org/docs/current/functions-comparisons.html#FUNCTIONS-COMPARISONS-ANY-SOME"""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(keys), type_=ARRAY(column.type)))
    return column.in_(keys)


def values_of(row: Any, names: Sequence[str]) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in names)


def set_together(row: Any, names: Sequence[str], before: tuple[Any, ...] | None = None) -> None:
    """Mark every one of `names` changed on the row (if `before` is given: only if one of them differs from it).

    SQLAlchemy's unit of work sends one UPDATE executemany per run of rows, in primary-key order, whose changed
    columns are the same. The rows a batch recomputes change different subsets (one order gets a refund, its
    neighbour a delivery date), so their UPDATEs split into runs of one or two rows: about 2,500 statements for
    17,800 deliveries in bench.process, each costing a round trip and the execution's own setup. Written whole,
    they are one statement per flush. https://docs.sqlalchemy.org/en/20/orm/session_api.html#sqlalchemy.orm.attributes.flag_modified"""
    state = inspect(row)
    if not state.persistent or (before is not None and values_of(row, names) == before):
        return  # an INSERT names every column anyway; or nothing to write
    loaded = state.dict
    for name in names:
        if name in loaded:  # an expired or never-set attribute has no value to send
            flag_modified(row, name)


def insert_row(session: Session, row: Any) -> bool:
    """Insert in a SAVEPOINT; False when a unique constraint refused it (a collision or a concurrent twin): how
    "once" holds under many workers without check-then-act."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
        return True
    except IntegrityError:
        return False


def get_in_store(session: Session, model: type[T], ident: int, store_id: int, *, for_update: bool = False) -> T | None:
    """The row of `model` with primary key `ident` if it is the store's, else None: Session.get that names the
    store. A row the session holds is answered from it (no query, as Session.get); otherwise one SELECT filtered
    by store_id as well, so a distributed PostgreSQL routes it to the store's node and no caller can read
    another store's row by its id (docs/deployment.md, tests/query_audit.py). `for_update`: always queried,
    row-locked, and the session's copy refreshed (as Session.get(..., with_for_update=True))."""
    table: Any = model
    if not for_update:
        held: T | None = session.identity_map.get(identity_key(model, ident))
        if held is not None:
            return held if getattr(held, "store_id", None) == store_id else None
    stmt = select(model).where(table.id == ident, table.store_id == store_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalar(stmt)


def loaded_in_store(
    session: Session, model: type[T], idents: Sequence[int], store_id: int
) -> tuple[list[T], list[int]]:
    """The rows of `model` with these primary keys that the session holds loaded in full and that are the
    store's, and the keys it does not (to query). What a SELECT of the keys would return for the held ones: the
    session's objects, their loaded values not overwritten. An expired row is left to the query, which reads
    it with the store filter (an attribute refresh would read it by its id alone). The inbox batch's rows
    preloaded or created in a store part are held, so the part's re-read of them is often not needed."""
    rows: list[T] = []
    missing: list[int] = []
    for ident in idents:
        held: Any = session.identity_map.get(identity_key(model, ident))
        if held is None:
            missing.append(ident)
            continue
        state = inspect(held)
        if state.persistent and not state.expired_attributes and getattr(held, "store_id", None) == store_id:
            rows.append(held)
        elif state.persistent and getattr(held, "store_id", None) != store_id:
            continue  # another store's row: a SELECT with the store filter would not return it either
        else:
            missing.append(ident)
    return rows, missing


def get_one_in_store(session: Session, model: type[T], ident: int, store_id: int, *, for_update: bool = False) -> T:
    """get_in_store for a row that must exist (Session.get_one that names the store): a row followed by a foreign
    key within the store, or a job's own row re-read. NoResultFound otherwise, as Session.get_one."""
    row = get_in_store(session, model, ident, store_id, for_update=for_update)
    if row is None:
        raise NoResultFound(f"no {model.__name__} {ident} in store {store_id}")
    return row


def reread_in_store(session: Session, model: type[T], ident: int, store_id: int) -> T:
    """The row as the database has it now, the session's copy overwritten (Session.refresh, or get_one after a
    conditional UPDATE, but naming the store)."""
    table: Any = model
    stmt = select(model).where(table.id == ident, table.store_id == store_id)
    return session.scalars(stmt.execution_options(populate_existing=True)).one()


def job_store_id(session: Session, model: type[Any], ident: int, store_id: int | None) -> int | None:
    """The store of a job's row: the store id the job carries, else its row's, read once by the row's id alone
    (None when the row is gone). The fallback is for jobs queued before jobs carried their store (the deploy of
    2026-12-07: RQ keeps a job's arguments as they were enqueued, and a deploy does not drain the queue); once no
    job of the old shape can be left in Redis it can go, and with it this function's entry in
    tests/distribution.py:JOBS_BY_ID (on Citus that read visits every shard)."""
    if store_id is not None:
        return store_id
    table: Any = model
    found = session.scalar(select(table.store_id).where(table.id == ident))
    return None if found is None else int(found)
