"""The batch a session is applying (inbox/batch.py), as one object: what its handlers look up and defer.

Outside a batch `current(session)` is None and every handler does its work at once (one delivery through the
single path, a redemption, a command). While a batch is applied (`begin` ... `end`), the handlers find here:
- rows: the rows its deliveries name, loaded up front per store (batch_rows.py: `lookup`, `remember`);
- dirty_orders: (store id, order platform id) whose derived work (refresh_order, the followers) runs once
  before the commit (inbox/batch_derived.run_deferred) instead of once per delivery;
- customer_totals: (store id, customer id) whose totals are recomputed once (each reads every order);
- deletion_markers: {store id: order ids that may have a deletion marker}, loaded once per store (per group);
- customer_ids: ids drawn ahead from the customers' sequence for the rows the batch creates (batch_rows);
- marks(name): a feature's own deferral set, by name (loyalty's accounts to refresh).
One object rather than a key per module in `session.info`: a module asks one question (is a batch applied, and
what does it hold) and cannot forget to clear its own key when the batch ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

_KEY = "records.batch"


@dataclass
class Batch:
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)  # store id -> kind -> {key: row or None}
    dirty_orders: set[tuple[int, str]] = field(default_factory=set)
    customer_totals: set[tuple[int, int]] = field(default_factory=set)
    deletion_markers: dict[int, set[str]] = field(default_factory=dict)
    customer_ids: list[int] = field(default_factory=list)  # drawn ahead for new customers (batch_rows)
    _marks: dict[str, set[Any]] = field(default_factory=dict)

    def marks(self, name: str) -> set[Any]:
        """A feature's deferral set (created empty on first use)."""
        return self._marks.setdefault(name, set())


def current(session: Session) -> Batch | None:
    """The batch this session is applying, or None (do the work now)."""
    return session.info.get(_KEY)


def begin(session: Session) -> Batch:
    batch = session.info[_KEY] = Batch()
    return batch


def end(session: Session) -> None:
    session.info.pop(_KEY, None)
