"""Set-based twins of the order followers for a bulk chunk's past orders (inbox/history_bulk.py), once per chunk.

Why: with points for past orders, the loyalty follower's work order by order (its ORM rows and accounts) was most
of the orders' bulk phase (bench/README.md). A follower that takes past orders may register a twin that writes, for
the chunk's past orders at once, what the follower would write for each; the orders it took are not handed to the
follower, the others are, as before. A twin is used only when every follower that takes past orders has one (an
order goes to the followers unless each twin took it). docs/history-import.md, "How it is written".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from app.stores.models import Store

#: (session, store, the chunk's past orders' platform ids, the chunk's now) -> the platform ids it wrote everything
#: for (the follower's rows; accounts it marks for the batch's refresh); the rest go to the follower.
PastOrdersHook = Callable[[Session, Store, list[str], datetime], set[str]]

#: Follower name -> its twin (register).
PAST_ORDERS_HOOKS: dict[str, PastOrdersHook] = {}


def register(follower: str, hook: PastOrdersHook) -> None:
    """Run `hook` once per bulk chunk for its past orders in place of the follower `follower` for those it takes
    (loyalty: loyalty/imported_orders.py; tests/loyalty/test_imported_orders.py holds it to the follower's rows)."""
    PAST_ORDERS_HOOKS[follower] = hook


def taken(session: Session, store: Store, takers: list[str], past: list[str], now: datetime) -> set[str]:
    """The past orders that every follower taking them (`takers`, by name) wrote by its twin."""
    if not takers or not past or any(name not in PAST_ORDERS_HOOKS for name in takers):
        return set()
    return set.intersection(*(PAST_ORDERS_HOOKS[name](session, store, past, now) for name in takers))
