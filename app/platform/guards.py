"""Per-customer rules under concurrency: one customer's capped sends, one at a time.

A cap ("at most N review requests per customer in 30 days") is a count, then a write: two workers that count
at once both see room and both write, and the customer gets N + 1 (the hardening issue: three e-mails within
seconds, cap 2). `lock_customer` makes the count-then-write one critical section per (store, customer): take
it before the count, in the transaction that writes the row the count will see, and let the commit release it.
`within_cap` is that sequence for the common case.

Why a lock and not a unique key: a cap counts rows in a sliding window (N per 30 days), so there is no single
row whose uniqueness the database could enforce; the rows it counts are all different. A lock makes the
second counter wait until the first has committed, then count again and see its row.

A "once per customer" rule (one surprise per customer, one recovery per basket...) should NOT use this: give
its row a unique key (store, customer, rule) and insert it with ON CONFLICT DO NOTHING (or catch the
IntegrityError). The database then enforces it whoever writes, in any transaction, with no lock to forget.

On PostgreSQL the lock is a transaction-level advisory lock (pg_advisory_xact_lock), released by the commit or
rollback, so a crashed worker never leaves it held. Its key is the single-bigint form, whose key space does not
overlap the two-int4 form of platform/locks.py's per-store lock
(https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS): a capped send never
waits on a whole store's batch, only on another send to the same customer. The top 16 bits are GUARD_NAMESPACE,
the other 48 a hash of (store, customer); two customers sharing a hash only wait for each other, never skip
the lock. Order: a writer holding the store's lock may then take a customer's; never the reverse.

The count must be a statement run after the lock is granted, at READ COMMITTED (PostgreSQL's default and
ours): each statement then sees what the previous holder committed. At REPEATABLE READ the snapshot would
predate the wait and the count would miss that row.

SQLite serialises writers on its own (one write transaction at a time; a reader that tries to write after
another writer committed gets "database is locked" rather than writing on a stale count), so there is nothing
to take.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

#: Top 16 bits of the per-customer lock keys ("PG", platform guards), so they cannot collide with other users
#: of the database's single-bigint advisory keys.
GUARD_NAMESPACE = 0x5047
_HASH_BITS = 48


def customer_lock_key(store_id: int, customer_id: int) -> int:
    """The signed 64-bit advisory key of one (store, customer): GUARD_NAMESPACE, then 48 bits of a hash."""
    digest = hashlib.blake2b(f"{store_id}:{customer_id}".encode(), digest_size=8).digest()
    low = int.from_bytes(digest, "big") & ((1 << _HASH_BITS) - 1)
    key = (GUARD_NAMESPACE << _HASH_BITS) | low
    return key - (1 << 64) if key >= 1 << 63 else key  # bigint is signed (the namespace keeps it positive)


def lock_customer(session: Session, store_id: int, customer_id: int) -> None:
    """Wait for, then hold until this transaction ends, the (store, customer) lock. Nothing on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": customer_lock_key(store_id, customer_id)})


def within_cap(session: Session, store_id: int, customer_id: int, count_fn: Callable[[], int | None], cap: int) -> bool:
    """Take the customer's lock, then count: True if one more fits under `cap`.

    `count_fn` counts the customer's rows the cap covers (None counts as 0). On True, write the new row in this
    same transaction and commit: the lock is held until then, so a concurrent caller counts after that row.
    """
    lock_customer(session, store_id, customer_id)
    return (count_fn() or 0) < cap
