"""The storefront's hot paths: the door's per-process store cache, the one-query balance, the one-trip summary cache."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from app.extensions import db
from app.loyalty.api import balance, get_settings
from app.loyalty.ledger import storefront_balance
from app.loyalty.models import LoyaltyAccount, PointsLedger
from app.platform.queue import get_redis
from app.platform.types import utcnow
from app.records.models import Customer
from app.security import secret_box
from app.storefront import local_state
from app.storefront.auth import mint_customer_token
from app.stores import cache as store_cache
from app.stores.storefront_keys import ensure_keys
from tests.helpers import add_store


@pytest.fixture
def cached(app, monkeypatch):
    monkeypatch.setitem(app.config, "STORE_CACHE_SECONDS", 60.0)
    store_cache.forget_all()
    yield
    store_cache.forget_all()


def _store(site: str):
    store = add_store("woocommerce", f"https://{site}/")
    keys = ensure_keys(db.session, secret_box(), store)
    db.session.commit()
    return store, keys


def _customer_with_points(store, platform_id: str, tier: str | None) -> Customer:
    now = utcnow()
    customer = Customer(store_id=store.id, platform_id=platform_id, email_key=f"{platform_id}@{store.id}")
    db.session.add(customer)
    db.session.flush()
    rows = [
        ("order:1:earn", "earn", 40, "1", now - timedelta(hours=1)),  # spendable
        ("order:1:reverse:r1", "reverse", -15, "1", None),  # counts with its order
        ("order:2:earn", "earn", 30, "2", None),  # pending
        ("action:signup", "action", 25, None, now - timedelta(hours=1)),
        ("redeem:x", "redeem", -10, None, None),
    ]
    for key, kind, points, order, available in rows:
        db.session.add(
            PointsLedger(
                store_id=store.id,
                customer_id=customer.id,
                source_key=key,
                kind=kind,
                points=points,
                order_platform_id=order,
                available_at=available,
                created_at=now - timedelta(days=1),
            )
        )
    db.session.add(LoyaltyAccount(store_id=store.id, customer_id=customer.id, tier=tier))
    db.session.commit()
    return customer


@pytest.fixture
def statements(ctx):
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    yield seen
    event.remove(db.engine, "before_cursor_execute", count)


def test_one_query_balance_equals_the_orm_balance(ctx):
    store, _ = _store("fast.example.com")
    customer = _customer_with_points(store, "501", "gold")
    now = utcnow()
    found = storefront_balance(db.session, store.id, "501", get_settings(store), now)
    assert found is not None
    points, tier, _changes = found
    assert points == balance(db.session, store, customer, now)
    assert (points.spendable, points.pending, tier) == (40 - 15 + 25 - 10, 30, "gold")
    assert storefront_balance(db.session, store.id, "999", get_settings(store), now) is None
    other, _ = _store("other.example.com")  # same platform id, another store: not found
    assert storefront_balance(db.session, other.id, "501", get_settings(other), now) is None


def test_balance_endpoint_with_the_store_cache_reads_one_query(app, client, ctx, cached, statements):
    store, keys = _store("fast.example.com")
    _customer_with_points(store, "501", None)
    token = mint_customer_token("fast.example.com", "501", keys.secret, expires_at=int(utcnow().timestamp()) + 600)
    headers = {"Authorization": f"Bearer {token}", "Origin": "https://fast.example.com"}
    first = client.get("/api/v1/me/balance", headers=headers)
    assert first.status_code == 200, first.json
    statements.clear()
    second = client.get("/api/v1/me/balance", headers=headers)
    assert second.json == first.json and second.json["spendable"] == 40
    assert second.headers["Access-Control-Allow-Origin"] == "https://fast.example.com"
    assert statements == []  # the store snapshot from the process, the answer from its own copy (local_state)
    local_state.forget(app)  # no copy left: the database
    statements.clear()
    assert client.get("/api/v1/me/balance", headers=headers).json == first.json
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1  # the store came from the cache
    # Still checked against the cached snapshot: another origin, another store's secret, a wrong store key.
    assert client.get("/api/v1/me/balance", headers={**headers, "Origin": "https://evil.example"}).status_code == 403
    forged = mint_customer_token("fast.example.com", "501", "pss_wrong", expires_at=int(utcnow().timestamp()) + 600)
    assert client.get("/api/v1/me/balance", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    other, other_keys = _store("other.example.com")
    wrong = client.get("/api/v1/me/balance", headers={**headers, "X-PPE-Store": other_keys.public_key})
    assert wrong.status_code == 401


def test_public_key_cache_is_exact_and_per_store(app, client, ctx, cached):
    store_a, keys_a = _store("a.example.com")
    store_b, keys_b = _store("b.example.com")
    path = "/api/v1/products/p1/reviews/summary"
    assert client.get(path, headers={"X-PPE-Store": keys_a.public_key}).status_code == 200
    # Store a's id with a wrong random part, once a's key is cached: refused (the cache is keyed by the exact key).
    store_id, _, random_part = keys_a.public_key.removeprefix("ppk_").partition("_")
    forged = f"ppk_{store_id}_{'x' * len(random_part)}"
    assert client.get(path, headers={"X-PPE-Store": forged}).status_code == 401
    assert store_cache.by_public_key(keys_b.public_key).id == store_b.id
    assert store_cache.by_public_key(keys_a.public_key).id == store_a.id


def test_summary_cache_follows_the_version_counter(app, ctx):
    from app.reviews.reading import _version_key, invalidate, product_summary

    store, _ = _store("fast.example.com")
    first = product_summary(store.id, "p1")
    assert first["count"] == 0
    get_redis().set(f"reviews:c:{{store:{store.id}}}:p1:summary", b'{"v": 0, "answer": {"count": 7}}')
    assert product_summary(store.id, "p1") == {"count": 7}  # served from the cache at the same version
    invalidate(store.id, "p1")
    assert int(get_redis().get(_version_key(store.id, "p1"))) == 1
    assert product_summary(store.id, "p1") == first  # a stale version is recomputed


def test_balance_rows_without_a_transaction_take_the_raw_path(app, ctx, statements):
    from app.loyalty.balance_read import balance_rows

    store, _ = _store("fast.example.com")
    customer = _customer_with_points(store, "501", "gold")
    store_id, customer_id = store.id, customer.id
    db.session.commit()  # nothing pending: on PostgreSQL the read goes to a pooled connection, prepared
    statements.clear()
    rows = balance_rows(db.session, store_id, "501")
    raw = db.engine.dialect.name == "postgresql"
    assert len(statements) == (0 if raw else 1)  # the raw path runs no Core statement at all
    assert {r.id for r in rows} == {customer_id} and rows[0].tier == "gold" and len(rows) == 5
    assert all(r.created_at.utcoffset() == timedelta(0) for r in rows)  # UTC, as the ORM path gives
    with db.session.begin_nested():  # inside a transaction: through the session (sees what it sees)
        via_session = balance_rows(db.session, store_id, "501")
    assert via_session == rows
    assert balance_rows(db.session, store.id, "999") == []
    other, _ = _store("other.example.com")
    assert balance_rows(db.session, other.id, "501") == []  # another store's customer with that id: not found
    now = utcnow()
    points, tier, _changes = storefront_balance(db.session, store.id, "501", get_settings(store), now)
    assert (points.spendable, points.pending, tier) == (40, 30, "gold")


def test_summary_hits_cost_no_redis_trip_then_one(app, client, ctx, cached, monkeypatch):
    from redis.connection import AbstractConnection as Connection

    from app.reviews.reading import invalidate

    store, keys = _store("fast.example.com")
    path = "/api/v1/products/p1/reviews/summary"
    headers = {"X-PPE-Store": keys.public_key, "Origin": "https://fast.example.com"}
    first = client.get(path, headers=headers)
    assert first.status_code == 200 and first.json["count"] == 0
    monkeypatch.setitem(app.config, "STOREFRONT_SYNC_SECONDS", 60.0)  # the counts were synced by the first request
    sent = []
    original = Connection.send_packed_command

    def spy(self, command, check_health=True):  # noqa: ANN001, ANN202  (counts trips; sends unchanged)
        sent.append(command)
        return original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", spy)
    again = client.get(path, headers=headers)
    assert again.json == first.json and sent == []  # this process's copy, the limits counted in process
    assert again.headers["Access-Control-Allow-Origin"] == "https://fast.example.com"
    get_redis().set(f"reviews:c:{{store:{store.id}}}:p1:summary", b'{"v": 0, "answer": {"count": 7}}')
    local_state.forget(app)  # another process: no copy of its own, the counts synced already
    monkeypatch.setitem(app.config, "STOREFRONT_SYNC_SECONDS", 0.0)
    client.get("/api/v1/program", headers=headers)  # its first request syncs
    monkeypatch.setitem(app.config, "STOREFRONT_SYNC_SECONDS", 60.0)
    sent.clear()
    hit = client.get(path, headers=headers)
    assert hit.json == {"count": 7} and len(sent) == 1  # the Redis copy: one MGET
    invalidate(store.id, "p1")  # this process drops its copy at once; the version moves for the others
    assert client.get(path, headers=headers).json == first.json  # a stale version is recomputed


def test_raw_balance_read_prepares_again_and_drops_a_failed_connection(app, ctx, monkeypatch, request):
    from app.loyalty import balance_read

    if db.engine.dialect.name != "postgresql":
        pytest.skip("the raw libpq read is PostgreSQL's")
    store, _ = _store("fast.example.com")
    _customer_with_points(store, "501", None)
    store_id = store.id
    db.session.commit()
    db.session.remove()  # no Session in this scope: the read takes the raw path, as in the door
    assert len(balance_read.balance_rows(db.session, store_id, "501")) == 5
    idle = [db.engine.raw_connection() for _ in range(db.engine.pool.checkedin())]  # every pooled connection
    for raw in idle:  # what psycopg sends after rolling back a connection it prepared on: ours goes too
        raw.driver_connection.pgconn.exec_(b"DEALLOCATE ALL")
        raw.close()
    # Sent behind psycopg's back, that DEALLOCATE leaves psycopg's own cache listing statements the server dropped:
    # a later test handed one of these connections failed with 'prepared statement "_pg3_53" does not exist'.
    # None of them outlives this test.
    request.addfinalizer(db.engine.dispose)
    prepares = []
    real_sql = balance_read._postgres_sql
    monkeypatch.setattr(balance_read, "_postgres_sql", lambda engine: prepares.append(1) or real_sql(engine))
    assert len(balance_read.balance_rows(db.session, store_id, "501")) == 5  # prepared again, not an error
    assert prepares == [1]
    seen = []
    monkeypatch.setattr(balance_read, "Transformer", lambda conn: seen.append(conn) or 1 / 0)
    with pytest.raises(ZeroDivisionError):
        balance_read.balance_rows(db.session, store_id, "501")
    monkeypatch.undo()
    assert seen[0].closed  # a connection whose read failed is closed, never handed out again
    assert len(balance_read.balance_rows(db.session, store_id, "501")) == 5
