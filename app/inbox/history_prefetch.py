"""A history source read and parsed on a thread of its own, a chunk ahead of the chunk being applied.

Why: a bulk chunk's time is the reading and parsing of its documents (the connectors' parsers, Python) and then
its transaction (mostly PostgreSQL's). One after the other, each waits for the other; here the next chunk is read
and parsed while the database applies the current one (bench/README.md, "history_import.py"). The documents,
the chunks and their cursors are exactly those of the source (inbox/history_sources.py): only where it runs
changes.

The source's callbacks touch the runner's session and its Redis lock (whose token is the runner thread's), so
they never run on the reading thread: they are queued, in order, with the chunks and run by the runner between
chunks. `save_cursor` (Shopify: the bulk operation's id, saved before it is waited for) is waited for, so the
source goes on only once it is committed, as when it runs in the runner; `set_total` and `heartbeat` are not
(the runner renews its lease after every chunk anyway). A source's exception (Waiting, a connector's error) is
raised in the runner where the source would have raised it, after the chunks before it. When the runner stops
early (a chunk's failure, a kill of the generator), the reading thread is told to stop at its next chunk or
callback and is waited for.
docs/history-import.md, "How it is written".
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, cast

from flask import Flask, current_app

from app.inbox.history_sources import Chunk, Reading

if TYPE_CHECKING:
    from werkzeug.local import LocalProxy

#: Parsed chunks waiting for the runner at most (besides the one it applies and the one being read).
AHEAD = 1


class _Stopped(Exception):
    """Raised in the reading thread once the runner has stopped taking chunks."""


def prefetched(source: Callable[[Reading], Iterator[Chunk]], reading: Reading) -> Generator[Chunk, None, None]:
    """The chunks of `source(reading)`, read on a thread while the caller applies the previous one."""
    messages: queue.Queue[tuple[str, Any]] = queue.Queue()
    room = threading.Semaphore(AHEAD)
    stop = threading.Event()

    def post(kind: str, value: Any) -> None:
        if stop.is_set():
            raise _Stopped
        messages.put((kind, value))

    def save_cursor(cursor: dict[str, Any]) -> None:
        done: Future[None] = Future()
        post("call", (reading.save_cursor, (cursor,), done))
        while True:  # committed by the runner before the source goes on (or raised there)
            try:
                return done.result(timeout=0.5)
            except TimeoutError:
                if stop.is_set():
                    raise _Stopped from None

    def set_total(total: int | None) -> None:
        post("call", (reading.set_total, (total,), None))

    def heartbeat() -> None:
        post("call", (reading.heartbeat, (), None))

    threaded = dataclasses.replace(reading, save_cursor=save_cursor, set_total=set_total, heartbeat=heartbeat)
    app = cast("LocalProxy[Flask]", current_app)._get_current_object()  # the source's clients read the config

    def read() -> None:
        try:
            with app.app_context():
                chunks = source(threaded)
                try:
                    for chunk in chunks:
                        while not room.acquire(timeout=0.5):
                            if stop.is_set():
                                raise _Stopped
                        post("chunk", chunk)
                finally:
                    getattr(chunks, "close", lambda: None)()  # a generator's own finally (the pool of pages)
            post("end", None)
        except _Stopped:
            pass
        except BaseException as exc:  # noqa: BLE001  (raised again in the runner, as the source would have)
            messages.put(("error", exc))

    thread = threading.Thread(target=read, name="history-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = messages.get()
            if kind == "chunk":
                room.release()
                yield value
            elif kind == "call":
                _call(*value)
            elif kind == "error":
                raise value
            else:
                return
    finally:
        stop.set()
        room.release()  # a reading thread waiting for room sees the stop
        _drain(messages)
        thread.join()
        _drain(messages)


def _call(callback: Callable[..., Any], arguments: tuple[Any, ...], done: Future[None] | None) -> None:
    try:
        callback(*arguments)
    except BaseException as exc:
        if done is not None:
            done.set_exception(exc)
        raise
    if done is not None:
        done.set_result(None)


def _drain(messages: queue.Queue[tuple[str, Any]]) -> None:
    """Unblock a reading thread waiting for a save the runner will not make any more."""
    while True:
        try:
            kind, value = messages.get_nowait()
        except queue.Empty:
            return
        if kind == "call" and value[2] is not None:
            value[2].set_exception(_Stopped())
