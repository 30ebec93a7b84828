"""A history source read on a thread (inbox/history_prefetch.py): the same chunks in the same order, the source's
callbacks run by the runner's thread in the source's order (the save of a cursor before the source goes on), the
source's error raised in the runner after the chunks before it, and the thread stopped when the runner stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from app.inbox.history_apply import Document
from app.inbox.history_prefetch import prefetched
from app.inbox.history_sources import Chunk, Reading


class Boom(Exception):
    pass


def _reading(calls: list[tuple[str, Any, str]]) -> Reading:
    def record(name: str) -> Any:
        return lambda *args: calls.append((name, args[0] if args else None, threading.current_thread().name))

    return Reading({}, record("save"), record("total"), 0, 0, heartbeat=record("beat"))


def _source(n: int, saved: list[dict[str, Any]], fail_after: int | None = None) -> Any:
    def source(reading: Reading) -> Iterator[Chunk]:
        reading.save_cursor({"operation": "op"})
        saved.append({"seen": True})  # the source went on: the save must have run already
        reading.set_total(n * 2)
        for number in range(n):
            if fail_after is not None and number == fail_after:
                raise Boom("platform down")
            reading.heartbeat()
            yield Chunk([Document(str(number), [])], {"done": number + 1})

    return source


def test_the_same_chunks_in_order_and_the_callbacks_on_the_runner_thread(ctx):
    calls: list[tuple[str, Any, str]] = []
    saved: list[dict[str, Any]] = []
    taken = []
    for chunk in prefetched(_source(6, saved), _reading(calls)):
        taken.append((chunk.documents[0].key, chunk.cursor))
        calls.append(("applied", chunk.cursor["done"], threading.current_thread().name))
    assert taken == [(str(n), {"done": n + 1}) for n in range(6)]
    runner = threading.current_thread().name
    assert {thread for _, _, thread in calls} == {runner}
    assert calls[:2] == [("save", {"operation": "op"}, runner), ("total", 12, runner)]
    assert [c for c in calls if c[0] == "beat"] and saved
    # Each chunk's own heartbeat was posted before the chunk: it runs before the chunk is applied.
    order = [name for name, _, _ in calls if name in ("beat", "applied")]
    assert order.count("beat") == 6 and order.index("beat") < order.index("applied")


def test_a_source_error_is_raised_in_the_runner_after_the_chunks_before_it(ctx):
    saved: list[dict[str, Any]] = []
    taken = []
    with pytest.raises(Boom):
        for chunk in prefetched(_source(6, saved, fail_after=3), _reading([])):
            taken.append(chunk.cursor["done"])
    assert taken == [1, 2, 3]


def test_a_failed_save_stops_the_source_and_is_raised_in_the_runner(ctx):
    went_on: list[bool] = []

    def source(reading: Reading) -> Iterator[Chunk]:
        reading.save_cursor({"operation": "op"})
        went_on.append(True)
        yield Chunk([], {})

    def save(cursor: dict[str, Any]) -> None:
        raise Boom("database away")

    with pytest.raises(Boom):
        list(prefetched(source, Reading({}, save, lambda total: None, 0, 0)))
    assert not went_on


def test_the_reading_thread_stops_when_the_runner_stops(ctx):
    closed = threading.Event()
    produced: list[int] = []

    def endless(reading: Reading) -> Iterator[Chunk]:
        try:
            number = 0
            while True:
                produced.append(number)
                yield Chunk([], {"done": number})
                number += 1
        finally:
            closed.set()

    before = threading.active_count()
    chunks = prefetched(endless, _reading([]))
    assert next(chunks).cursor == {"done": 0}
    chunks.close()  # as the runner's `closing` does when a chunk fails
    assert closed.wait(5)
    assert threading.active_count() == before
    assert len(produced) <= 4  # a chunk ahead at most, not the whole source
