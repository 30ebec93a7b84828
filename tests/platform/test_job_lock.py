"""platform/locks.job_lock: one runner of a store's network job, released only by its owner."""

from __future__ import annotations

import time

from app.platform.locks import job_lock
from app.platform.queue import get_redis


def test_one_holder_at_a_time_and_a_lapsed_lease_is_not_freed_by_its_old_owner(app, ctx):
    redis = get_redis()
    with job_lock(redis, "test:job:1", seconds=5) as first:
        assert first
        with job_lock(redis, "test:job:1", seconds=5) as second:
            assert not second  # wait=0: told at once
        assert redis.exists("test:job:1")  # the refused runner did not free it
    assert not redis.exists("test:job:1")  # released by its owner
    old = job_lock(redis, "test:job:2", seconds=0.2)
    assert old.__enter__()
    time.sleep(0.3)  # the lease runs out mid-job...
    new = job_lock(redis, "test:job:2", seconds=5)
    assert new.__enter__()  # ...so another runner gets in
    old.__exit__(None, None, None)  # the first runner finishes late
    assert redis.exists("test:job:2")  # and does not free the second runner's lock
    new.__exit__(None, None, None)
    assert not redis.exists("test:job:2")


def test_a_waiter_gets_the_lock_once_the_holder_releases_it(app, ctx):
    redis = get_redis()
    lock = redis.lock("test:job:3", timeout=0.3)
    assert lock.acquire()
    started = time.monotonic()
    with job_lock(redis, "test:job:3", seconds=5, wait=2) as held:
        assert held and time.monotonic() - started >= 0.2  # waited for the lease to run out
