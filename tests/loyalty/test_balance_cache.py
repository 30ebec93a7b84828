"""The copies of GET /me/balance each process keeps, and their invalidation (loyalty/balance_cache.py): hits,
fills, time, sessions, Redis failures.

The property test over every kind of write is in test_balance_cache_property.py.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import db
from app.loyalty import balance_cache
from app.loyalty import storefront as loyalty_views
from app.loyalty.models import PointsLedger
from app.loyalty.settings import update_settings
from app.platform.queue import get_redis, mark_redis_down
from app.platform.types import utcnow
from app.security import secret_box
from app.storefront import local_state
from app.storefront.auth import mint_customer_token
from app.stores.storefront_keys import ensure_keys
from tests.helpers import (
    add_store,
    dumps,
    fixture_json,
    process_all,
    woo_headers,
)
from tests.loyalty.conftest import (
    BALANCE,
    T0,
    apply,
    copies,
    customer,
    delivered_event,
    fresh_balance,
    fulfil_event,
    new_shopper,
    order_event,
    read_balance,
    refund_event,
)


def test_a_hit_is_served_from_the_copy_and_a_write_is_seen_at_once(app, client, ctx, bumps):
    store, headers = new_shopper()
    apply(store, order_event("1", total="50.00"), fulfil_event("1"), delivered_event("1", T0 + timedelta(days=1)))
    first = read_balance(client, headers).json
    assert first["spendable"] == 50
    held = local_state.state(app)
    name = f"balance:{store.id}:7001"
    body, until_ms, fingerprint = held.copies[name]
    assert b'"spendable":50' in body
    held.copies[name] = (body.replace(b'"spendable":50', b'"spendable":77'), until_ms, fingerprint)
    assert read_balance(client, headers).json["spendable"] == 77  # served from the copy: no query
    apply(store, refund_event("1", "r1", "10.00"))  # commits; the customer's copies are dropped everywhere
    assert bumps[-1] == ({(store.id, "7001")}, False)
    assert read_balance(client, headers).json["spendable"] == 40


def test_an_answer_read_while_a_write_commits_is_not_kept(app, ctx):
    held = local_state.state(app)
    snapshot = held.epoch  # the request's, taken before it reads the database
    balance_cache.bump([(1, "42")])  # a writer commits between that snapshot and the keep
    until_ms = int(utcnow().timestamp() * 1000) + 60_000
    local_state.keep(held, "balance:1:42", b"{}", until_ms, b"fp", snapshot)
    assert "balance:1:42" not in held.copies
    local_state.keep(held, "balance:1:42", b"{}", until_ms, b"fp", held.epoch)
    assert local_state.copy(held, "balance:1:42", b"fp", until_ms - 1) == b"{}"
    assert local_state.copy(held, "balance:1:42", b"other settings", until_ms - 1) is None
    assert local_state.copy(held, "balance:1:42", b"fp", until_ms) is None  # past its valid-until
    entries = get_redis().xrange(local_state.LOG_KEY)
    assert entries and entries[-1][1] == {b"n": b"balance:1:42"}  # what the other processes' next sync reads


def test_pending_points_become_spendable_at_their_date_without_a_write(app, client, ctx, monkeypatch):
    store, headers = new_shopper()
    apply(
        store, order_event("1", total="50.00"), fulfil_event("1"), delivered_event("1", utcnow() - timedelta(days=13))
    )
    first = read_balance(client, headers).json
    assert (first["pending"], first["spendable"]) == (50, 0)
    until_ms = local_state.state(app).copies[f"balance:{store.id}:7001"][1]
    assert abs(until_ms / 1000 - (utcnow() + timedelta(days=1)).timestamp()) < 60  # the 14-day window's end
    later = utcnow() + timedelta(days=1, minutes=1)
    monkeypatch.setattr("app.loyalty.storefront.utcnow", lambda: later)
    monkeypatch.setattr("app.storefront.copies.now_ms", lambda: int(later.timestamp() * 1000))  # the copies' clock
    second = read_balance(client, headers).json
    assert (second["pending"], second["spendable"]) == (0, 50)


def test_uncommitted_writes_are_not_cached_and_rolling_tier_stores_not_at_all(app, client, ctx):
    store, headers = new_shopper()
    apply(store, order_event("1", total="50.00"))
    who = customer()
    db.session.add(
        PointsLedger(store_id=store.id, customer_id=who.id, source_key="x", kind="action", points=5, created_at=T0)
    )
    db.session.flush()  # seen by a read through this session, not committed
    assert client.get(BALANCE, headers=headers).status_code == 200
    assert copies() == []
    db.session.rollback()
    gold = {"name": "gold", "basis": "points_earned", "threshold": "10", "window": "lifetime", "multiplier": "1"}
    update_settings(db.session, store, {"tiers": [gold]})
    db.session.commit()
    assert read_balance(client, headers).status_code == 200 and copies()  # lifetime tiers: cached
    local_state.forget(app)
    update_settings(db.session, store, {"tiers": [{**gold, "window": "rolling_12m"}]})
    db.session.commit()
    assert read_balance(client, headers).status_code == 200
    assert copies() == []  # progress moves as orders leave the window: not cached


def test_the_webhook_batch_invalidates_the_customers_it_writes(app, client, ctx, bumps):
    store = add_store("woocommerce")
    keys = ensure_keys(db.session, secret_box(), store)
    db.session.commit()
    token = mint_customer_token("woo.example.com", "25", keys.secret, expires_at=int(utcnow().timestamp()) + 600)
    headers = {"Authorization": f"Bearer {token}"}
    assert read_balance(client, headers).json["pending"] == 0  # never seen: zeros, kept
    assert copies()
    body = dumps({**fixture_json("woocommerce", "order"), "customer_id": 25, "id": 8101})
    assert (
        client.post("/webhooks/woocommerce", data=body, headers=woo_headers("order.created", body)).status_code == 200
    )
    process_all(app)  # the inbox batch, as the rq worker runs it
    assert ({(store.id, "25")}, False) in bumps
    cached = read_balance(client, headers).json
    assert cached["pending"] > 0 and cached == fresh_balance(client, headers)


def test_a_read_snapshot_older_than_a_commit_does_not_fill_the_cache(app, client, ctx):
    store, headers = new_shopper()
    apply(store, order_event("1", total="50.00"))
    who_id = customer().id
    assert read_balance(client, headers).json["pending"] == 50
    db.session.scalar(select(PointsLedger.id))  # the test's session opens its read transaction (a snapshot)
    with Session(db.engine) as other:  # another process earns 5 points and commits (and bumps)
        row = PointsLedger(
            store_id=store.id, customer_id=who_id, source_key="a", kind="action", points=5, created_at=T0
        )
        other.add(row)
        other.commit()
    client.get(BALANCE, headers=headers)  # through the test's session: it must not read an older snapshot
    db.session.commit()
    assert read_balance(client, headers).json == fresh_balance(client, headers)


def test_customers_not_loaded_in_the_session_are_named_by_one_query(app, ctx, bumps):
    store, _ = new_shopper()
    apply(store, order_event("1", total="50.00"))
    who_id = customer().id
    db.session.expire_all()  # the customer's platform id is no longer in the identity map
    db.session.add(
        PointsLedger(store_id=store.id, customer_id=who_id, source_key="b", kind="action", points=5, created_at=T0)
    )
    bumps.clear()
    db.session.commit()
    assert bumps == [({(store.id, "7001")}, False)]


def test_a_bump_lost_while_redis_is_down_drops_every_copy_at_the_next_one(app, client, ctx, monkeypatch):
    store, headers = new_shopper()
    apply(store, order_event("1", total="50.00"))
    assert read_balance(client, headers).json["pending"] == 50  # a copy, under the current generations
    before = get_redis().get(balance_cache.GLOBAL_KEY)
    monkeypatch.setattr(balance_cache._Debt, "owed", False)
    mark_redis_down(60)  # as after a failed call: the commit's bump is skipped, not waited for
    apply(store, refund_event("1", "r1", "10.00"))
    assert balance_cache._Debt.owed and get_redis().get(balance_cache.GLOBAL_KEY) == before
    app.extensions["redis_down_until"] = 0.0  # Redis answers again: the next commit pays the debt
    apply(store, order_event("2", total="20.00"))
    assert not balance_cache._Debt.owed and get_redis().get(balance_cache.GLOBAL_KEY) != before
    assert read_balance(client, headers).json == fresh_balance(client, headers)


def test_an_answer_read_before_another_process_commits_is_not_kept(app, client, ctx, monkeypatch):
    """Another process commits a write while this request reads the database; this process learns it only from
    the log, at a sync between the read and the keep: the answer (read before the commit) must not be kept."""
    store, headers = new_shopper()
    apply(store, order_event("1", total="50.00"))
    who_id = customer().id
    monkeypatch.setattr(local_state, "drop", lambda *args, **kwargs: None)  # the writer is another process
    real = loyalty_views.storefront_balance

    def read_then_other_commits(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        found = real(*args, **kwargs)
        with Session(db.engine) as other:  # commits, then appends the customer to the log (its bump)
            row = PointsLedger(
                store_id=store.id, customer_id=who_id, source_key="c", kind="action", points=5, created_at=T0
            )
            other.add(row)
            other.commit()
        assert local_state.sync(local_state.state(app), get_redis(), local_state.monotonic())  # reads the log
        return found

    monkeypatch.setattr(loyalty_views, "storefront_balance", read_then_other_commits)
    assert read_balance(client, headers).json["pending"] == 50  # read before the commit
    monkeypatch.setattr(loyalty_views, "storefront_balance", real)
    assert copies() == []
    assert read_balance(client, headers).json["pending"] == 55
