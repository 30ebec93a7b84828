"""Key lists in WHERE clauses: IN lists cut to a size every database takes, and sent as one array on PostgreSQL.

The inbox batch (services/batch_rows.py, batch_derived.py, order_derived.py, loyalty_refresh.py) looks rows up
by hundreds of keys at a time, once per table and store.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, any_, bindparam
from sqlalchemy.orm import Session


def chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """IN lists of at most `size` (SQLite caps bound parameters per statement)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def in_keys(session: Session, column: ColumnElement[Any], keys: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN (keys)`; on PostgreSQL `column = ANY(:array)`, one bound array for all the keys. An expanded
    IN list sends a parameter per key, which SQLAlchemy renders and psycopg parses and dumps key by key on every
    execution (psycopg caches no statement with over 50 parameters): 4.6% of the inbox worker's CPU samples at
    500 keys a list. The ANY form is one statement text whatever the number of keys, and uses the same indexes.
    https://www.postgresql.org/docs/current/functions-comparisons.html#FUNCTIONS-COMPARISONS-ANY-SOME"""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(keys), type_=ARRAY(column.type)))
    return column.in_(keys)
