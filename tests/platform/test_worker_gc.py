"""The worker frees, between two jobs, the reference cycles its GC tuning would otherwise keep for good
(platform/jobs.collect_between_jobs): with GC_THRESHOLDS the oldest generation is almost never collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from app.platform import jobs
from app.platform.queue import get_queue
from app.platform.worker import Worker


class Cycle:
    me: Cycle


def noop() -> str:
    return "ok"


@pytest.fixture
def worker_gc() -> Iterator[None]:
    """The worker process's collector settings (platform/jobs._tune_gc), restored after."""
    before = gc.get_threshold()
    gc.set_threshold(*jobs.GC_THRESHOLDS)
    yield
    gc.set_threshold(*before)


def _garbage_in_the_oldest_generation() -> weakref.ref[Cycle]:
    """A cycle alive through a full collection (so moved to the oldest generation), then dropped: as a batch's
    rows and ORM objects in flight when a collection ran, garbage only a full collection can free."""
    cycle = Cycle()
    cycle.me = cycle
    gc.collect()
    return weakref.ref(cycle)


def _run_one_job() -> None:
    queue = get_queue()
    queue.enqueue(noop)
    Worker([queue], connection=queue.connection).work(burst=True)


def test_a_cycle_left_in_the_oldest_generation_is_freed_after_the_next_job(ctx, worker_gc, monkeypatch) -> None:
    monkeypatch.setattr(jobs, "FULL_COLLECTION_SECONDS", 0.0, raising=False)  # due now
    left = _garbage_in_the_oldest_generation()
    _run_one_job()
    assert left() is None


def test_no_full_collection_before_the_interval(ctx, worker_gc, monkeypatch) -> None:
    """At most one full collection per FULL_COLLECTION_SECONDS: short jobs do not pay one each."""
    monkeypatch.setattr(jobs, "FULL_COLLECTION_SECONDS", 3600.0)
    monkeypatch.setattr(jobs, "_last_full", jobs.time.monotonic())
    left = _garbage_in_the_oldest_generation()
    _run_one_job()
    assert left() is not None
