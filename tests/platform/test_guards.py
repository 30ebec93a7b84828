"""platform/guards.py: the per-(store, customer) lock is its own key, never the store's lock."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.extensions import db
from app.platform.guards import GUARD_NAMESPACE, customer_lock_key, lock_customer, within_cap
from app.platform.locks import LOCK_NAMESPACE


def test_keys_are_stable_namespaced_and_per_store_and_customer():
    key = customer_lock_key(1, 42)
    assert key == customer_lock_key(1, 42) and key >> 48 == GUARD_NAMESPACE and 0 < key < 1 << 63
    assert len({key, customer_lock_key(2, 42), customer_lock_key(1, 43), customer_lock_key(42, 1)}) == 4


def test_within_cap_counts_after_the_lock(app, ctx):
    calls: list[int] = []

    def count() -> int | None:
        calls.append(1)
        return None if len(calls) == 1 else 2

    assert within_cap(db.session, 1, 42, count, 2) is True  # None counts as 0
    assert within_cap(db.session, 1, 42, count, 2) is False
    db.session.rollback()


def test_the_customer_lock_blocks_that_customer_only_and_never_the_store(app, ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    lock_customer(db.session, 1, 42)
    with db.engine.connect() as other:
        try_xact = "SELECT pg_try_advisory_xact_lock"
        assert other.scalar(text(f"{try_xact}(:k)"), {"k": customer_lock_key(1, 42)}) is False
        assert other.scalar(text(f"{try_xact}(:k)"), {"k": customer_lock_key(1, 43)}) is True
        assert other.scalar(text(f"{try_xact}(:ns, :k)"), {"ns": LOCK_NAMESPACE, "k": 1}) is True  # the store's
        other.rollback()
    db.session.rollback()  # released with the transaction
    with db.engine.connect() as other:
        assert other.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": customer_lock_key(1, 42)}) is True
        other.rollback()
