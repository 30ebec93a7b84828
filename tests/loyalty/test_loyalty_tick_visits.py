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
