"""The referral scheduler step visits only the stores with referral work due: with a thousand stores, locking and
committing every store every tick kept the scheduler busy all the time and contending with the workers for the
stores' locks (bench/README.md, "bench/soak.py")."""

from __future__ import annotations

from datetime import timedelta

from app.referrals import tasks
from tests.helpers import add_store
from tests.referrals.conftest import WINDOW_END, land, referrer_with_code, reward_rows
from tests.referrals.test_referrals_flow import _friend_orders


def test_tick_visits_only_stores_with_due_referrals(app, client, ctx, monkeypatch):
    shop = add_store("shopify")
    idle = add_store("woocommerce")
    ann, code = referrer_with_code(app, client)
    _friend_orders(app, client, land(client, code.code))
    visited: list[int] = []
    run_store = tasks.run_store
    monkeypatch.setattr(tasks, "run_store", lambda store, now: visited.append(store.id) or run_store(store, now))

    assert tasks.tick(app, now=WINDOW_END - timedelta(hours=1))["rewarded"] == 0
    assert visited == []  # the referral is pending but not due yet: no store to visit

    assert tasks.tick(app, now=WINDOW_END + timedelta(hours=1))["rewarded"] == 1
    assert visited == [shop.id] and idle.id not in visited
    assert len(reward_rows()) == 1
