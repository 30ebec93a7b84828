"""The Redis copy of GET /me/balance (services/balance_cache.py) is never staler than a commit.

The property test interleaves every kind of write we make to a customer's balance (order events, refunds,
delivery, holds and releases, a guest merged into the account, settings, a bulk statement) with reads: each
read through the cache must equal a read computed afresh from the database.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import redis_scripts
from app.demo.scenario import build_scenario, sign
from app.extensions import db
from app.models import Customer, PointsLedger
from app.models.types import utcnow
from app.queue import get_redis, mark_redis_down
from app.security import secret_box
from app.services import balance_cache
from app.services.loyalty import hold_points, release_hold
from app.services.loyalty_settings import update_settings
from app.services.storefront_auth import mint_customer_token
from app.services.storefront_keys import ensure_keys
from app.tasks.loyalty import expire_inactive
from tests.helpers import (
    SHOP,
    SHOPIFY_SECRET,
    WOO_SECRET,
    WOO_SITE,
    add_store,
    dumps,
    fixture_json,
    process_all,
    reset_state,
    woo_headers,
)
from tests.helpers_loyalty import (
    T0,
    ann,
    apply,
    customer,
    customer_event,
    delivered_event,
    fulfil_event,
    order_event,
    refund_event,
)

SITE = "cache.example.com"
BALANCE = "/api/v1/me/balance"
OPS = ("pay", "pay", "refund", "deliver", "cancel", "hold", "release", "guest", "merge", "settings", "tiers", "expire")
OPS += ("bulk", "none")
TIERS = [  # lifetime tiers: their progress (points earned, amount spent) is part of the cached answer
    {"name": "silver", "basis": "points_earned", "threshold": "60", "window": "lifetime", "multiplier": "1"},
    {"name": "gold", "basis": "amount_spent", "threshold": "150", "window": "lifetime", "multiplier": "2"},
]


@pytest.fixture
def bumps(monkeypatch):
    """Every bump after a commit: (pairs, everything)."""
    seen: list[tuple[set, bool]] = []
    real = balance_cache.bump

    def spy(pairs, everything=False):  # noqa: ANN001, ANN202
        seen.append((set(pairs), everything))
        real(pairs, everything)

    monkeypatch.setattr(balance_cache, "bump", spy)
    return seen


def _shopper(platform_id: str = "7001"):
    store = add_store("woocommerce", f"https://{SITE}/")
    keys = ensure_keys(db.session, secret_box(), store)
    db.session.commit()
    token = mint_customer_token(SITE, platform_id, keys.secret, expires_at=int(utcnow().timestamp()) + 600)
    return store, {"Authorization": f"Bearer {token}"}


def _read(client, headers):  # noqa: ANN001, ANN202
    """A request in its own transaction, as in production (here the test's session is shared with the app)."""
    db.session.commit()
    return client.get(BALANCE, headers=headers)


def _entries() -> list[bytes]:
    redis_scripts.settle(get_redis())  # the stores this thread sent have run
    return get_redis().keys("sf:bal:*")


def _fresh(client, headers) -> dict:
    """The answer computed from the database: the copies are dropped first."""
    if entries := _entries():
        get_redis().delete(*entries)
    answer = _read(client, headers)
    assert answer.status_code == 200, answer.json
    return answer.json


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
def test_cached_balance_equals_a_fresh_read_after_any_write(app, client, ctx, bumps, plan):
    db.session.remove()
    reset_state(app)
    store, headers = _shopper()
    holds: list[str] = []
    fresh = _fresh(client, headers)  # caches the customer we have never seen: zeros
    for version, (op, n) in enumerate(plan, start=1):
        bumps.clear()
        _step(store, op, n, version, holds)
        cached = _read(client, headers).json  # the copy, if still current
        assert _entries(), "every read stores its answer"
        fresh = _fresh(client, headers)
        assert cached == fresh, op
        assert not any(everything for _, everything in bumps) or op == "bulk"  # the others name their customers


def test_a_hit_is_served_from_the_copy_and_a_write_is_seen_at_once(app, client, ctx, bumps):
    store, headers = _shopper()
    apply(store, order_event("1", total="50.00"), fulfil_event("1"), delivered_event("1", T0 + timedelta(days=1)))
    first = _read(client, headers).json
    assert first["spendable"] == 50
    key = balance_cache.keys(store.id, "7001")[2]
    redis_scripts.settle(get_redis())  # the copy's store has run
    assert b'"spendable":50' in get_redis().get(key)
    get_redis().set(key, get_redis().get(key).replace(b'"spendable":50', b'"spendable":77'))  # marks a hit
    assert _read(client, headers).json["spendable"] == 77  # served from the copy
    apply(store, refund_event("1", "r1", "10.00"))  # commits; the customer's generation moves
    assert bumps[-1] == ({(store.id, "7001")}, False)
    assert _read(client, headers).json["spendable"] == 40


def test_an_answer_read_while_a_write_commits_is_not_kept(app, ctx):
    names = balance_cache.keys(1, "42")
    redis = get_redis()
    prefetched = dict(zip(names, redis.mget(*names), strict=True))  # nothing yet: both generations missing
    balance_cache.bump([(1, "42")])  # a writer commits between our read of the generations and our store
    now_ms = int(utcnow().timestamp() * 1000)
    balance_cache.store(prefetched, names, b"fp", now_ms + 60_000, now_ms, b"{}")
    redis_scripts.settle(redis)  # the store's reply read: Redis has run it
    assert redis.get(names[2]) is None
    prefetched = dict(zip(names, redis.mget(*names), strict=True))
    balance_cache.store(prefetched, names, b"fp", now_ms + 60_000, now_ms, b"{}")
    redis_scripts.settle(redis)
    after = dict(zip(names, redis.mget(*names), strict=True))
    assert balance_cache.lookup(after, names, b"fp", now_ms) == b"{}"
    assert balance_cache.lookup(after, names, b"other settings", now_ms) is None
    assert balance_cache.lookup(after, names, b"fp", now_ms + 60_000) is None  # past its valid-until
    redis.delete(names[1])  # the generation evicted: a new one starts at random, the copy does not match it
    assert balance_cache.lookup(dict(zip(names, redis.mget(*names), strict=True)), names, b"fp", now_ms) is None


def test_pending_points_become_spendable_at_their_date_without_a_write(app, client, ctx, monkeypatch):
    store, headers = _shopper()
    apply(
        store, order_event("1", total="50.00"), fulfil_event("1"), delivered_event("1", utcnow() - timedelta(days=13))
    )
    first = _read(client, headers).json
    assert (first["pending"], first["spendable"]) == (50, 0)
    redis_scripts.settle(get_redis())
    entry = get_redis().get(balance_cache.keys(store.id, "7001")[2])
    until_ms = int(entry.split(b"|")[3])
    assert abs(until_ms / 1000 - (utcnow() + timedelta(days=1)).timestamp()) < 60  # the 14-day window's end
    later = utcnow() + timedelta(days=1, minutes=1)
    monkeypatch.setattr("app.storefront.loyalty.utcnow", lambda: later)
    second = _read(client, headers).json
    assert (second["pending"], second["spendable"]) == (0, 50)


def test_uncommitted_writes_are_not_cached_and_rolling_tier_stores_not_at_all(app, client, ctx):
    store, headers = _shopper()
    apply(store, order_event("1", total="50.00"))
    who = customer()
    db.session.add(
        PointsLedger(store_id=store.id, customer_id=who.id, source_key="x", kind="action", points=5, created_at=T0)
    )
    db.session.flush()  # seen by a read through this session, not committed
    assert client.get(BALANCE, headers=headers).status_code == 200
    assert _entries() == []
    db.session.rollback()
    gold = {"name": "gold", "basis": "points_earned", "threshold": "10", "window": "lifetime", "multiplier": "1"}
    update_settings(db.session, store, {"tiers": [gold]})
    db.session.commit()
    assert _read(client, headers).status_code == 200 and _entries()  # lifetime tiers: cached
    get_redis().delete(*_entries())
    update_settings(db.session, store, {"tiers": [{**gold, "window": "rolling_12m"}]})
    db.session.commit()
    assert _read(client, headers).status_code == 200
    assert _entries() == []  # progress moves as orders leave the window: not cached


def test_the_webhook_batch_invalidates_the_customers_it_writes(app, client, ctx, bumps):
    store = add_store("woocommerce")
    keys = ensure_keys(db.session, secret_box(), store)
    db.session.commit()
    token = mint_customer_token("woo.example.com", "25", keys.secret, expires_at=int(utcnow().timestamp()) + 600)
    headers = {"Authorization": f"Bearer {token}"}
    assert _read(client, headers).json["pending"] == 0  # never seen: zeros, kept
    assert _entries()
    body = dumps({**fixture_json("woocommerce", "order"), "customer_id": 25, "id": 8101})
    assert (
        client.post("/webhooks/woocommerce", data=body, headers=woo_headers("order.created", body)).status_code == 200
    )
    process_all(app)  # the inbox batch, as the rq worker runs it
    assert ({(store.id, "25")}, False) in bumps
    cached = _read(client, headers).json
    assert cached["pending"] > 0 and cached == _fresh(client, headers)


def test_a_read_snapshot_older_than_a_commit_does_not_fill_the_cache(app, client, ctx):
    store, headers = _shopper()
    apply(store, order_event("1", total="50.00"))
    who_id = customer().id
    assert _read(client, headers).json["pending"] == 50
    db.session.scalar(select(PointsLedger.id))  # the test's session opens its read transaction (a snapshot)
    with Session(db.engine) as other:  # another process earns 5 points and commits (and bumps)
        row = PointsLedger(
            store_id=store.id, customer_id=who_id, source_key="a", kind="action", points=5, created_at=T0
        )
        other.add(row)
        other.commit()
    client.get(BALANCE, headers=headers)  # through the test's session: it must not read an older snapshot
    db.session.commit()
    assert _read(client, headers).json == _fresh(client, headers)


def test_customers_not_loaded_in_the_session_are_named_by_one_query(app, ctx, bumps):
    store, _ = _shopper()
    apply(store, order_event("1", total="50.00"))
    who_id = customer().id
    db.session.expire_all()  # the customer's platform id is no longer in the identity map
    db.session.add(
        PointsLedger(store_id=store.id, customer_id=who_id, source_key="b", kind="action", points=5, created_at=T0)
    )
    bumps.clear()
    db.session.commit()
    assert bumps == [({(store.id, "7001")}, False)]


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


def test_a_bump_lost_while_redis_is_down_drops_every_copy_at_the_next_one(app, client, ctx, monkeypatch):
    store, headers = _shopper()
    apply(store, order_event("1", total="50.00"))
    assert _read(client, headers).json["pending"] == 50  # a copy, under the current generations
    before = get_redis().get(balance_cache.GLOBAL_KEY)
    monkeypatch.setattr(balance_cache._Debt, "owed", False)
    mark_redis_down(60)  # as after a failed call: the commit's bump is skipped, not waited for
    apply(store, refund_event("1", "r1", "10.00"))
    assert balance_cache._Debt.owed and get_redis().get(balance_cache.GLOBAL_KEY) == before
    app.extensions["redis_down_until"] = 0.0  # Redis answers again: the next commit pays the debt
    apply(store, order_event("2", total="20.00"))
    assert not balance_cache._Debt.owed and get_redis().get(balance_cache.GLOBAL_KEY) != before
    assert _read(client, headers).json == _fresh(client, headers)
