"""The per-store lock: one writer of a store's records at a time, whoever it is.

Every writer of a store's order, customer and programme rows takes it in its transaction, and holds it to the
commit: the inbox batch for its part of a store, a single delivery, the scheduler's per-store steps (loyalty
upkeep, referral rewards), a redemption, a privacy request. Stores proceed in parallel. On PostgreSQL it is a
transaction-level advisory lock (released by the commit or rollback, so a crashed worker never leaves it held:
https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS); SQLite serialises writers on its
own (one write transaction at a time), so there is nothing to take.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

#: First key of our advisory locks, so they cannot collide with other users of the database.
LOCK_NAMESPACE = 0x5050  # "PP"


def lock_store(session: Session, store_id: int) -> None:
    """Wait for, then hold until this transaction ends, the store's lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:ns, :k)"), {"ns": LOCK_NAMESPACE, "k": store_id})
