"""Every loyalty account of a store recomputed at once (`flask loyalty recompute`).

Accounts are recomputed from their rows whenever their customer changes, under the settings of that moment. A
settings change (a new tier threshold, a tier added, points made spendable sooner) therefore reaches each
customer only at their next order; a merchant who wants it applied to everyone now runs this. It is
refresh_accounts, as the inbox batch path uses it (loyalty/refresh.py), over the store's accounts in chunks:
each chunk one transaction under the store's lock (platform/locks.py), so deliveries and redemptions wait for
a chunk only, and a stop half-way leaves every chunk done either whole or not at all (running it again is safe:
a refresh is never an increment). The balance copies follow by themselves (loyalty/balance_invalidation.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.models import LoyaltyAccount
from app.loyalty.refresh import refresh_accounts
from app.platform.locks import lock_store
from app.platform.sql import chunks
from app.stores.models import Store

#: Accounts per transaction.
CHUNK = 500


def account_holders(session: Session, store_id: int) -> list[int]:
    """The customers of the store that have an account (everyone the programme has seen), in id order."""
    stmt = select(LoyaltyAccount.customer_id).where(LoyaltyAccount.store_id == store_id)
    return list(session.scalars(stmt.order_by(LoyaltyAccount.customer_id)))


def recompute_store(
    session: Session,
    store_id: int,
    customer_ids: list[int],
    now: datetime,
    on_chunk: Callable[[int], None] | None = None,
) -> int:
    """Refresh these customers' accounts, CHUNK per transaction; `on_chunk(done)` after each commit."""
    done = 0
    for chunk in chunks(customer_ids, CHUNK):
        lock_store(session, store_id)
        store = session.get(Store, store_id)
        if store is None:  # uninstalled and erased meanwhile: nothing left to recompute
            break
        refresh_accounts(session, store, set(chunk), now)
        session.commit()
        done += len(chunk)
        if on_chunk is not None:
            on_chunk(done)
    return done
