"""Column types that behave the same on PostgreSQL and SQLite."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import relationship
from sqlalchemy.types import TypeDecorator

#: Autoincrementing 64-bit key (SQLite only autoincrements INTEGER PRIMARY KEY).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zones and hands back naive values; those are UTC by
    construction here, so they are re-tagged rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """Exact decimal money: NUMERIC(18,4) on PostgreSQL, text on SQLite.

    SQLite's NUMERIC affinity stores REAL, which would turn 0.1 + 0.2 into
    0.30000000000000004; text keeps the Decimal exact. Sums are done in Python.
    """

    impl = Numeric(18, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(18, 4, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money must be Decimal, got {type(value).__name__}")
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


def utcnow() -> datetime:
    return datetime.now(UTC)


def flush_after(target: str, column: str) -> Any:
    """A many-to-one relationship to `target` over the foreign key `column` ("Class.column"), never loaded.

    It is there for the unit of work: in one flush SQLAlchemy orders the INSERTs and DELETEs of two tables by the
    relationship() between their mappers, and without one by the mappers' module paths, alphabetically
    (sqlalchemy/orm/unitofwork.py, SaveUpdateAll.sort_key; https://docs.sqlalchemy.org/en/20/orm/session_basics.html#flushing).
    The inbox batch creates customers and the rows naming them in a single flush, so every foreign key to a table
    that can be written in the same flush has one of these, and the order follows the keys, not the file names.
    lazy="raise": reading it would be a query per row; code sets and reads the `*_id` column.
    """
    return relationship(target, foreign_keys=column, lazy="raise", passive_deletes=True)


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def strict_day(value: str) -> date:
    """YYYY-MM-DD exactly, as the API documents say (format: date); ValueError otherwise. date.fromisoformat alone
    also takes 20270220 and week dates (Python 3.11)."""
    if not _ISO_DAY.fullmatch(value):
        raise ValueError("YYYY-MM-DD")
    return date.fromisoformat(value)
