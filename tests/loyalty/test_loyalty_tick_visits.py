"""The loyalty scheduler step visits only the stores with upkeep due (points becoming spendable past the store's
watermark, a tier window ended, an expiry or a reminder due): with a thousand stores, locking and committing every
store every tick kept the scheduler busy all the time (bench/README.md, "Results at 1,000 stores")."""

from __future__ import annotations

from datetime import timedelta

from app.loyalty import tasks as loyalty_tasks
from app.platform.types import utcnow
from tests.helpers import add_store
from tests.loyalty.conftest import apply, delivered_event, fulfil_event, order_event


def test_tick_visits_only_stores_with_upkeep_due(app, ctx, monkeypatch):
    store = add_store("shopify")
    idle = add_store("woocommerce")
    shipped = utcnow().replace(microsecond=0)  # the pipeline reconciles on the real clock
    apply(store, order_event("1"), fulfil_event("1", shipped), delivered_event("1", shipped))
    visited: list[int] = []
    run_store = loyalty_tasks.run_store
    monkeypatch.setattr(
        loyalty_tasks, "run_store", lambda session, s, now: visited.append(s.id) or run_store(session, s, now)
    )
    available = shipped + timedelta(days=14)

    assert loyalty_tasks.tick(app, now=available - timedelta(seconds=1))["refreshed"] == 0
    assert visited == []  # the earn row is not spendable yet and nothing else is due

    assert loyalty_tasks.tick(app, now=available)["refreshed"] == 1
    assert visited == [store.id] and idle.id not in visited

    assert loyalty_tasks.tick(app, now=available + timedelta(hours=1))["refreshed"] == 0
    assert visited == [store.id]  # past the watermark: nothing new


def test_the_due_stores_are_found_when_several_stores_have_a_watermark(app, ctx, monkeypatch):
    """Each store's watermark is its own: with two stores past their first refresh (two loyalty_store_state rows),
    the due list still names each store by its own watermark (PostgreSQL refused the list with a cardinality error
    when the watermark's subquery was not tied to the outer store; SQLite took any store's watermark)."""
    first, second = add_store("shopify"), add_store("woocommerce")
    shipped = utcnow().replace(microsecond=0)
    apply(first, order_event("1"), fulfil_event("1", shipped), delivered_event("1", shipped))
    apply(second, order_event("2"), fulfil_event("2", shipped), delivered_event("2", shipped + timedelta(days=3)))
    visited: list[int] = []
    run_store = loyalty_tasks.run_store
    monkeypatch.setattr(
        loyalty_tasks, "run_store", lambda session, s, now: visited.append(s.id) or run_store(session, s, now)
    )
    available = shipped + timedelta(days=14)
    assert loyalty_tasks.tick(app, now=available + timedelta(days=5))["refreshed"] == 2  # both watermarks written
    visited.clear()
    apply(first, order_event("3"), fulfil_event("3", shipped), delivered_event("3", shipped + timedelta(days=10)))
    assert loyalty_tasks.tick(app, now=available + timedelta(days=10))["refreshed"] == 1
    assert visited == [first.id]  # the second store's watermark is past everything it holds
