"""The storefront's per-process state (app/storefront/local_state.py): counts that add up across processes,
balance copies served with no Redis trip, and what drops them (the log, a global bump, a failed sync).

Tests run with STOREFRONT_SYNC_SECONDS = 0 (every request syncs); these set an interval and move the
module's monotonic clock instead of sleeping.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from redis.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError

from app.extensions import db
from app.loyalty import balance_cache
from app.platform import redis_scripts
from app.platform.queue import get_redis
from app.storefront import local_state
from tests.loyalty.conftest import (
    T0,
    apply,
    delivered_event,
    fresh_balance,
    fulfil_event,
    new_shopper,
    order_event,
    read_balance,
    refund_event,
)


@pytest.fixture
def interval(app, monkeypatch):
    """A 1 s sync interval and a clock the test moves: returns the function that moves it."""
    now = [1000.0]
    monkeypatch.setitem(app.config, "STOREFRONT_SYNC_SECONDS", 1.0)
    monkeypatch.setattr(local_state, "monotonic", lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += seconds

    return advance


@pytest.fixture
def trips(monkeypatch):
    """Commands sent to Redis on any connection (a spy: they are sent unchanged)."""
    sent: list[bytes] = []
    original = AbstractConnection.send_packed_command

    def spy(self, command, check_health=True):  # noqa: ANN001, ANN202
        sent.append(command)
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", spy)
    return sent


def _another_process_writes(monkeypatch, write) -> None:  # noqa: ANN001
    """Run `write` as a writer in another process would: its bump reaches this one only through the log."""
    with monkeypatch.context() as patch:
        patch.setattr(local_state, "drop", lambda *args, **kwargs: None)
        write()


def _paid(store) -> None:  # noqa: ANN001
    apply(store, order_event("1", total="50.00"), fulfil_event("1"), delivered_event("1", T0 + timedelta(days=1)))


def test_counts_from_two_processes_add_up_in_redis(app, ctx):
    first, second = local_state.State(pid=1), local_state.State(pid=2)
    key = [("sf:rl:c:1:c:7:1", 61)]
    assert [local_state.count(first, key) for _ in range(3)][-1] == [3]
    assert [local_state.count(second, key) for _ in range(2)][-1] == [2]  # it knows only its own, for now
    assert local_state.sync(first, get_redis(), 10.0) and local_state.sync(second, get_redis(), 10.0)
    assert int(get_redis().get(key[0][0])) == 5 and 0 < get_redis().ttl(key[0][0]) <= 61
    assert local_state.count(second, key) == [6]  # the first process's three, once synced
    assert local_state.count(first, key) == [4]  # it synced before the second: its own three, and this one
    assert local_state.sync(first, get_redis(), 11.0) and int(get_redis().get(key[0][0])) == 6  # 3 + 2 + 1: one pending


def test_the_balance_reads_are_counted_with_the_sync(app, client, ctx):
    store, headers = new_shopper()
    _paid(store)
    for _ in range(3):
        assert read_balance(client, headers).status_code == 200  # one read of the database, then the copy
    read_balance(client, {**headers, "Cache-Control": "no-cache"})  # skips the copy: a second read
    first, second = local_state.State(pid=1), local_state.State(pid=2)  # and two other processes' counts
    local_state.tally(first, "balance_reads")
    local_state.tally(second, "balance_reads")
    assert local_state.sync(first, get_redis(), 10.0) and local_state.sync(second, get_redis(), 10.0)
    assert local_state.sync(local_state.state(app), get_redis(), local_state.monotonic())
    assert get_redis().hget(local_state.STATS_KEY, "balance_reads") == b"4"


def test_a_copy_answers_with_no_redis_trip_and_the_log_drops_it(app, client, ctx, interval, trips, monkeypatch):
    store, headers = new_shopper()
    _paid(store)
    first = read_balance(client, headers).json  # a miss: the database, then both copies kept
    trips.clear()
    assert read_balance(client, headers).json == first and trips == []  # this process's copy: no Redis at all
    _another_process_writes(monkeypatch, lambda: apply(store, refund_event("1", "r1", "20.00")))
    # Until the next sync this process has not heard of the write: the answer may lag it by the interval...
    assert read_balance(client, headers).json == first
    interval(1.0)
    # ...and no more: the request that finds the interval over syncs first, and the log drops the copy.
    changed = read_balance(client, headers).json
    assert changed != first and changed == fresh_balance(client, headers)


def test_a_commit_in_this_process_and_a_no_cache_read_skip_the_copy(app, client, ctx, interval, monkeypatch):
    store, headers = new_shopper()
    _paid(store)
    first = read_balance(client, headers).json
    apply(store, refund_event("1", "r1", "10.00"))  # this process's commit drops its copy at once
    after_own = read_balance(client, headers).json
    assert after_own != first and after_own == fresh_balance(client, headers)
    read_balance(client, headers)  # kept again
    _another_process_writes(monkeypatch, lambda: apply(store, refund_event("1", "r2", "10.00")))
    revalidated = read_balance(client, {**headers, "Cache-Control": "no-cache"}).json  # the widget after a write
    assert revalidated != after_own and revalidated == fresh_balance(client, headers)


def test_a_failed_sync_stops_the_copies_and_limits_fail_open(app, client, ctx, interval, monkeypatch):
    store, headers = new_shopper()
    _paid(store)
    first = read_balance(client, headers).json
    _another_process_writes(monkeypatch, lambda: apply(store, refund_event("1", "r1", "20.00")))
    interval(1.0)
    real = redis_scripts.run

    def refuse(redis, script, keys, args):  # noqa: ANN001, ANN202
        if script is local_state._SYNC:
            raise RedisConnectionError("down")
        return real(redis, script, keys, args)

    monkeypatch.setattr(redis_scripts, "run", refuse)
    answer = read_balance(client, headers)  # served (fail open), and not from a copy it could not check
    assert answer.status_code == 200 and answer.json != first
    monkeypatch.undo()
    assert answer.json == fresh_balance(client, headers)


def test_a_global_bump_or_a_trimmed_log_drops_every_copy(app, ctx):
    held, redis = local_state.State(pid=1), get_redis()
    assert local_state.sync(held, redis, 1.0)  # the first sync: the log's position and the global generation
    local_state.keep(held, "balance:1:a", b"{}", 2**62, b"fp", held.epoch)
    assert local_state.sync(held, redis, 2.0) and local_state.copy(held, "balance:1:a", b"fp", 0) == b"{}"
    balance_cache.bump([], everything=True)
    assert local_state.sync(held, redis, 3.0) and held.copies == {}
    local_state.keep(held, "balance:1:a", b"{}", 2**62, b"fp", held.epoch)
    redis.delete(local_state.LOG_KEY)  # as if trimmed past our position: the entries now are all newer
    redis.xadd(local_state.LOG_KEY, {"n": "balance:9:unrelated"})
    assert local_state.sync(held, redis, 4.0) and held.copies == {}
    local_state.keep(held, "balance:1:a", b"{}", 2**62, b"fp", held.epoch)
    redis.xadd(local_state.LOG_KEY, {"n": "balance:9:unrelated"})
    assert local_state.sync(held, redis, 5.0) and "balance:1:a" in held.copies  # an entry for others: kept
    redis.xadd(local_state.LOG_KEY, {"n": "1:a"})  # not "<kind>:<store>:<key>" (a writer of another format)
    assert local_state.sync(held, redis, 6.0) and held.copies == {}  # what it meant is unknown: every copy goes


def test_a_copy_read_before_a_sync_dropped_copies_is_not_kept(app, ctx):
    held, redis = local_state.State(pid=1), get_redis()
    local_state.sync(held, redis, 1.0)
    snapshot = held.epoch  # a request starts reading here...
    redis.xadd(local_state.LOG_KEY, {"n": "balance:1:a\nbalance:1:b"})  # ...a writer commits...
    local_state.sync(held, redis, 2.0)  # ...another thread's sync reads the log...
    local_state.keep(held, "balance:1:a", b"{}", 2**62, b"fp", snapshot)  # ...the answer read before: not kept
    assert held.copies == {}
    local_state.keep(held, "balance:1:a", b"{}", 2**62, b"fp", held.epoch)
    assert local_state.copy(held, "balance:1:a", b"other settings", 0) is None  # another store snapshot
    assert local_state.copy(held, "balance:1:a", b"fp", 2**62) is None  # past its valid-until


def test_totals_of_ended_windows_are_forgotten_and_a_fork_starts_empty(app, ctx, monkeypatch):
    held, redis = local_state.State(pid=1), get_redis()
    local_state.count(held, [("sf:rl:s:1:5", 61)])
    local_state.sync(held, redis, 100.0)
    assert "sf:rl:s:1:5" in held.totals
    local_state.sync(held, redis, 160.0)
    assert "sf:rl:s:1:5" in held.totals  # its window may still be running
    local_state.sync(held, redis, 162.0)
    assert held.totals == {} and held.ends == {}
    mine = local_state.state()
    assert local_state.state() is mine
    monkeypatch.setattr(local_state._Process, "pid", mine.pid + 1)  # what the fork hook sets in a child
    assert local_state.state() is not mine and local_state.state().copies == {}


def test_bumps_append_the_customers_to_the_log(app, ctx):
    balance_cache.bump([(3, "41"), (3, "42")])
    ((_, fields),) = get_redis().xrange(local_state.LOG_KEY)
    assert fields == {b"n": b"balance:3:41\nbalance:3:42"}
    db.session.rollback()


def test_copies_are_used_only_while_the_last_sync_is_recent(app, ctx, interval):
    held = local_state.State(pid=1, synced_at=10.0)  # the interval fixture: 1 s
    assert local_state.fresh(held, 10.9, synced=False) and not local_state.due(held, 10.9)
    assert local_state.due(held, 11.0) and not local_state.fresh(held, 11.0, synced=False)
    assert local_state.fresh(held, 11.0, synced=True)  # the request's own sync just now
    held.syncing = True  # another thread's sync under way: not due here, and the view is fresh a while longer
    assert not local_state.due(held, 11.5) and local_state.fresh(held, 11.9, synced=False)
    assert not local_state.fresh(held, 12.0, synced=False)


def test_a_review_change_in_another_process_drops_the_summary_copy(app, client, ctx, interval, monkeypatch):
    from app.reviews.reading import invalidate
    from app.security import secret_box
    from app.stores.storefront_keys import ensure_keys

    store, _ = new_shopper()
    headers = {"X-PPE-Store": ensure_keys(db.session, secret_box(), store).public_key}
    db.session.commit()
    path = "/api/v1/products/p1/reviews/summary"
    first = client.get(path, headers=headers).json  # computed, kept in Redis and in this process
    _another_process_writes(monkeypatch, lambda: invalidate(store.id, "p1"))  # the version moves to 1
    get_redis().set(f"reviews:c:{{store:{store.id}}}:p1:summary", b'{"v": 1, "answer": {"count": 9}}')  # its new answer
    assert client.get(path, headers=headers).json == first  # within the interval: this process's copy
    interval(1.0)
    assert client.get(path, headers=headers).json == {"count": 9}  # synced: the log dropped it


def test_only_door_routes_keep_answers_and_a_non_lasting_answer_is_not_kept(app, ctx):
    from app.storefront.copies import Kept, Lasting, Lookup, serve
    from app.storefront.registry import RouteSpec, storefront_route

    with pytest.raises(ValueError, match="door routes"):
        storefront_route("/never", kept=Kept(name=lambda shopper, kwargs: "x:1:y"))
    held = local_state.state(app)
    spec = RouteSpec("/x", ("GET",), "any", "x", answer=lambda shopper: {"a": 1}, kept=Kept(name=lambda s, k: "x:1:y"))
    assert serve(spec, Lookup(held.epoch, "x:1:y", b"", None), None, {}) == {"a": 1}  # not Lasting: not kept
    assert "x:1:y" not in held.copies
    lasting = RouteSpec("/x", ("GET",), "any", "x", answer=lambda shopper: Lasting({"a": 2}, 2**62), kept=spec.kept)
    assert serve(lasting, None, None, {}) == {"a": 2}  # no lookup (stale view, no-cache): answered, not kept
    assert serve(lasting, Lookup(held.epoch, "x:1:y", b"", None), None, {}) == b'{"a":2}'
    assert local_state.copy(held, "x:1:y", b"", 0) == b'{"a":2}'
