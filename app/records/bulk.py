"""Bulk statements on customers' rows say which customers they write.

An UPDATE, DELETE or INSERT statement bypasses the unit of work, so listeners that keep something per customer
cannot see whom it touched from the session's objects. The statement names them instead:
`.execution_options(**writes_customers(store.id, ids))`. Today loyalty/balance_invalidation.py reads the option
to drop the storefront's cached balances of those customers; a bulk write on a table it watches that names no
one drops every cached balance, so forgetting the option costs speed, never correctness. Rows written outside
SQLAlchemy (the history import's COPY and driver statements) are named by `written` instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.orm import Session

#: The execution option's name; its value is (store id, customer ids).
OPTION = "customers_written"


def writes_customers(store_id: int, customer_ids: Iterable[int | None]) -> dict[str, Any]:
    """Execution options for a bulk statement that writes these customers' rows."""
    return {OPTION: (store_id, tuple(c for c in customer_ids if c is not None))}


#: Who keeps something per customer: called with (session, store id, customer ids) for every naming.
LISTENERS: list[Callable[[Session, int, set[int]], None]] = []


def written(session: Session, store_id: int, customer_ids: Iterable[int | None]) -> None:
    """Tell the listeners these customers' rows were written in this session's transaction, by a statement they
    could not see (the driver's own, under the session's connection)."""
    ids = {c for c in customer_ids if c is not None}
    for listener in LISTENERS:
        listener(session, store_id, ids)
