"""The per-store lock: one writer of a store's records at a time, whoever it is; and `job_lock`, one runner of
a store's network job.

Every writer of a store's order, customer and programme rows takes it in its transaction, and holds it to the
commit: the inbox batch for its part of a store, a single delivery, the scheduler's per-store steps (loyalty
upkeep, referral rewards), a redemption, a privacy request. Stores proceed in parallel. On PostgreSQL it is a
transaction-level advisory lock (released by the commit or rollback, so a crashed worker never leaves it held:
https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS); SQLite serialises writers on its
own (one write transaction at a time), so there is nothing to take.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from redis import Redis
from redis.exceptions import LockError
from sqlalchemy import text
from sqlalchemy.orm import Session

#: First key of our advisory locks, so they cannot collide with other users of the database.
LOCK_NAMESPACE = 0x5050  # "PP"


def lock_store(session: Session, store_id: int) -> None:
    """Wait for, then hold until this transaction ends, the store's lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:ns, :k)"), {"ns": LOCK_NAMESPACE, "k": store_id})


def lock_stores(session: Session, store_ids: Iterable[int]) -> None:
    """`lock_store` for several stores, in one statement, in ascending store id order: every transaction that
    holds more than one store's lock (the inbox's groups of stores, inbox/batch_group.py) takes them in that one
    order, so two of them never wait on each other in a cycle; a transaction holding one lock cannot be in a
    cycle either. unnest() returns the array's elements in their order, and the function scan calls the lock
    function row by row: the locks are taken in the order of the sorted array."""
    ids = sorted(set(store_ids))
    if len(ids) == 1:
        lock_store(session, ids[0])
    elif ids and session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:ns, k) FROM unnest(CAST(:ks AS integer[])) AS k"),
            {"ns": LOCK_NAMESPACE, "ks": ids},
        )


@contextmanager
def job_lock(redis: Redis, key: str, seconds: float, wait: float = 0.0) -> Iterator[bool]:
    """The other lock: one runner of a store's network job (a write-back push, a review publish, a token
    refresh), yields whether it is ours. Why not `lock_store`: these jobs talk to the store over HTTP for seconds
    to minutes, and an advisory lock is held by an open transaction; so a Redis lock with a lease (`seconds`:
    longer than the job can run) and a random owner token, released only by its owner (redis-py's Lock, a Lua
    compare-and-delete: https://redis.io/docs/latest/develop/use/patterns/distributed-locks/). The job's rows stay
    the authority: a lapsed lease lets a second runner in, which finds nothing due or the row lock. `wait`: seconds
    to wait for it (0: yield False at once when another runner holds it)."""
    lock = redis.lock(key, timeout=seconds, blocking=wait > 0, blocking_timeout=wait or None)
    held = bool(lock.acquire())
    try:
        yield held
    finally:
        if held:
            try:
                lock.release()
            except LockError:  # the lease ran out meanwhile (another runner may hold it now: not ours to free)
                pass
