"""The Redis copy of GET /me/balance is never staler than a commit, whatever the writes (property test).

Every kind of write we make to a customer's balance (order events, refunds, deliveries, holds and releases, a
guest merged into the account, settings, lifetime tiers, the scheduler's expiry, a bulk statement) interleaved
with reads: each read through the cache must equal a read computed afresh from the database. And a whole demo
store history names every customer it writes.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from app.demo.scenario import build_scenario, sign
from app.extensions import db
from app.loyalty.api import hold_points, release_hold
from app.loyalty.models import PointsLedger
from app.loyalty.settings import update_settings
from app.loyalty.tasks import expire_inactive
from app.records.models import Customer
from app.storefront import local_state
from tests.helpers import (
    SHOP,
    SHOPIFY_SECRET,
    WOO_SECRET,
    WOO_SITE,
    add_store,
    process_all,
    reset_state,
)
from tests.loyalty.conftest import (
    T0,
    ann,
    apply,
    copies,
    customer,
    customer_event,
    delivered_event,
    fresh_balance,
    fulfil_event,
    new_shopper,
    order_event,
    read_balance,
    refund_event,
)

OPS = ("pay", "pay", "refund", "deliver", "cancel", "hold", "release", "guest", "merge", "settings", "tiers", "expire")
OPS += ("bulk", "none")
TIERS = [  # lifetime tiers: their progress (points earned, amount spent) is part of the cached answer
    {"name": "silver", "basis": "points_earned", "threshold": "60", "window": "lifetime", "multiplier": "1"},
    {"name": "gold", "basis": "amount_spent", "threshold": "150", "window": "lifetime", "multiplier": "2"},
]


def _step(store, op: str, n: int, version: int, holds: list[str]) -> None:
    pid = str(1 + n % 3)
    if op == "pay":
        apply(store, order_event(pid, total=f"{40 + n}.00", version=version))
    elif op == "refund":
        apply(store, refund_event(pid, f"r{version}", "5.00"))
    elif op == "deliver":
        apply(store, fulfil_event(pid, T0), delivered_event(pid, T0 + timedelta(days=1)))
    elif op == "cancel":
        apply(store, order_event(pid, total=f"{40 + n}.00", version=version, cancelled=True))
    elif op == "hold" and (who := customer()) is not None:
        try:
            hold_points(db.session, store, who, 1 + n % 20, f"redeem:{version}", {"reward": "test"})
            holds.append(f"redeem:{version}")
        except Exception:  # noqa: BLE001 (InsufficientPoints: nothing written)
            db.session.rollback()
        db.session.commit()
    elif op == "release" and holds:
        release_hold(db.session, store, holds.pop(0), "unused")
        db.session.commit()
    elif op == "guest":  # a guest order under the account's e-mail: the guest's points, not yet the account's
        apply(store, order_event(f"g{version}", total="30.00", version=version, customer=ann(None, "guest@x.test")))
    elif op == "merge":  # the guest signs up: its rows move to the account (bulk statements that name them)
        apply(store, customer_event(ann("7001", "guest@x.test")))
    elif op == "settings":
        update_settings(db.session, store, {"expiry": {"inactive_months": [12, 1][n % 2]}})
        db.session.commit()
    elif op == "tiers":
        update_settings(db.session, store, {"tiers": TIERS[: 1 + n % 2]})
        db.session.commit()
    elif op == "expire":  # the scheduler's expiry of inactive points, as if run in 2028
        expire_inactive(db.session, store, T0 + timedelta(days=400 + n))
        db.session.commit()
    elif op == "bulk":  # a bulk statement that names no customer: every copy goes
        db.session.execute(update(PointsLedger).where(PointsLedger.store_id == store.id).values(points=n))
        db.session.commit()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 60)), min_size=3, max_size=14))
@example([("pay", 0), ("none", 0), ("refund", 0), ("deliver", 0), ("hold", 5), ("release", 0), ("cancel", 0)])
@example([("guest", 0), ("pay", 1), ("merge", 0), ("settings", 1), ("bulk", 3)])
@example([("tiers", 1), ("pay", 0), ("pay", 1), ("refund", 1), ("deliver", 0), ("settings", 1), ("expire", 0)])
def test_cached_balance_equals_a_fresh_read_after_any_write(app, client, ctx, bumps, monkeypatch, plan):
    # As if every write were another process's: this process's copies learn of it from the log alone (a
    # commit in this process also drops them at once, which would hide a broken log).
    monkeypatch.setattr(local_state, "drop", lambda *args, **kwargs: None)
    db.session.remove()
    reset_state(app)
    store, headers = new_shopper()
    holds: list[str] = []
    fresh = fresh_balance(client, headers)  # caches the customer we have never seen: zeros
    for version, (op, n) in enumerate(plan, start=1):
        bumps.clear()
        _step(store, op, n, version, holds)
        cached = read_balance(client, headers).json  # the copy, if still current
        assert copies(), "every read stores its answer"
        fresh = fresh_balance(client, headers)
        assert cached == fresh, op
        assert not any(everything for _, everything in bumps) or op == "bulk"  # the others name their customers


def test_a_whole_store_history_names_every_customer_it_writes(app, client, bumps):
    """The demo scenario (accounts, guests who sign up, refunds, cancellations, repeats) through the webhooks and
    the worker: every bump names its customers; none falls back to dropping every copy."""
    scenario = build_scenario(seed=4, customers=30, orders=200, shopify_shop=SHOP, woo_site=WOO_SITE)
    with app.app_context():
        add_store("shopify")
        add_store("woocommerce")
    secrets = {"shopify": SHOPIFY_SECRET, "woocommerce": WOO_SECRET.encode()}
    for delivery in scenario.deliveries:
        headers = sign(delivery, secrets[delivery.platform])
        assert client.post(f"/webhooks/{delivery.platform}", data=delivery.body, headers=headers).status_code == 200
    process_all(app)
    named = {pair for pairs, _ in bumps for pair in pairs}
    with app.app_context():
        registered = {tuple(r) for r in db.session.execute(select(Customer.store_id, Customer.platform_id)) if r[1]}
    assert registered and registered <= named
    assert not any(everything for _, everything in bumps)
