"""The storefront door's per-process state: rate-limit counts and kept answers, synced with Redis every
SYNC_SECONDS instead of one Redis round trip on every request.

Why: a round trip per request (the limits, with the route's cache read in the same trip) would be the floor of
the widgets' calls, and an answer already given needs nothing else (bench/storefront.py measures both). So:

- Rate-limit counts are kept here. Each sync adds this process's new counts to the Redis counters (INCRBY) and
  reads back their totals, which include every other process's. A request is refused when the last totals
  plus this process's counts since then pass the limit. In one process that is exact; with several, each may
  admit what the others counted since their last sync: at most (processes - 1) x their requests per
  SYNC_SECONDS over the limit. Redis still holds the counts, so the limits are per store and per customer
  across every worker and instance.
- The answers of routes registered with `kept=` (storefront/copies.py) are kept here too, by name, and used
  with no Redis trip while this process's view is fresh. A feature that changes what such an answer says
  appends the names to a Redis stream (LOG_KEY, `append`) after its commit; each sync reads what was appended
  since the last and drops those copies. The global generation (GLOBAL_KEY) moving, more entries than one
  sync reads, or the stream trimmed past this process's position drop them all. A request may use a copy only
  if a sync started less than SYNC_SECONDS ago, or one it made itself, or one less than 2 x SYNC_SECONDS ago
  while another thread's is under way (`fresh`). So an answer from here is exact as of a moment at most
  2 x SYNC_SECONDS old. A failed sync (Redis down) stops it.
- A copy is kept only if no sync dropped copies between the request's snapshot (`epoch`) and the keep: a
  log entry read meanwhile may have named this very answer, which was read before it.

Times are time.monotonic (a wall clock step cannot make a stale view look fresh); tests set
STOREFRONT_SYNC_SECONDS to 0, so every request syncs first and every answer is exact.
Streams: https://redis.io/docs/latest/develop/data-types/streams/ (XRANGE's exclusive "(" needs Redis 6.2).
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from redis import Redis

from app.platform import redis_scripts
from app.platform.redis_scripts import Script

DEFAULT_SYNC_SECONDS = 0.025
LOG_KEY = "sf:balgen:log"
LOG_LENGTH = 10_000  # bumps the stream keeps (trimmed approximately); a process further behind drops every copy
READ_MAX = 1_000  # log entries one sync reads; a sync that finds more drops every copy instead
MAX_COPIES = 20_000  # per process, least recently used first out (a copy is ~200 bytes)
GLOBAL_KEY = "sf:balgen"  # the global generation: a writer that cannot name its answers moves it (`INCR`)
STATS_KEY = "sf:stats"  # a hash of counts all processes add to (`tally`): how often the copies did not answer

# KEYS: n counters, the log, the global generation, the stats hash. ARGV: n, the n deltas, the n TTLs, the last
# log id read ('' = none yet), READ_MAX, then stats as name, delta pairs. Returns {totals, global generation,
# newest id, oldest id, entries after ours}.
_SYNC = Script("""
local n = tonumber(ARGV[1])
local totals = {}
for i = 1, n do
  local delta = tonumber(ARGV[1 + i])
  local total = redis.call('INCRBY', KEYS[i], delta)
  if total == delta then redis.call('EXPIRE', KEYS[i], ARGV[1 + n + i]) end
  totals[i] = total
end
local log, last = KEYS[n + 1], ARGV[2 + 2 * n]
local newest = redis.call('XREVRANGE', log, '+', '-', 'COUNT', 1)
local oldest = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)
local entries = {}
if last ~= '' then entries = redis.call('XRANGE', log, '(' .. last, '+', 'COUNT', ARGV[3 + 2 * n]) end
for i = 4 + 2 * n, #ARGV, 2 do redis.call('HINCRBY', KEYS[n + 3], ARGV[i], ARGV[i + 1]) end
return {totals, redis.call('GET', KEYS[n + 2]) or '', newest[1] and newest[1][1] or '',
        oldest[1] and oldest[1][1] or '', entries}
""")


def _stream_id(value: bytes) -> tuple[int, int]:
    milliseconds, _, sequence = value.partition(b"-")
    return int(milliseconds), int(sequence or 0)


@dataclass
class State:
    """One process's state (one per app: a test's app or a gunicorn worker's)."""

    pid: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: dict[str, list[int]] = field(default_factory=dict)  # key -> [requests not yet in Redis, TTL]
    flushing: dict[str, list[int]] = field(default_factory=dict)  # the same, in the sync under way
    totals: dict[str, int] = field(default_factory=dict)  # counter key -> its Redis total at the last sync
    # Whole seconds (monotonic) -> the keys whose window ended by then: forgotten at the first sync after,
    # a pass over those keys only (one over every key, under the lock, held up every request of the process).
    ends: dict[int, list[str]] = field(default_factory=dict)
    synced_at: float = float("-inf")  # monotonic start of the last sync that succeeded
    syncing: bool = False
    log_id: bytes = b""  # the last log entry applied; b"" before the first sync
    global_gen: bytes | None = None
    epoch: int = 0  # moves whenever copies are dropped
    stats: dict[str, int] = field(default_factory=dict)  # counts for STATS_KEY not yet in Redis
    copies: OrderedDict[str, tuple[bytes, int, bytes]] = field(default_factory=OrderedDict)  # name -> body, until, fp


class _Process:
    pid = os.getpid()  # kept by a fork hook: os.getpid() is a system call, and state() runs on every request


os.register_at_fork(after_in_child=lambda: setattr(_Process, "pid", os.getpid()))


def state(app: Flask | None = None) -> State:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    held: State | None = app.extensions.get("storefront_local")
    if held is None or held.pid != _Process.pid:  # a forked process starts with nothing of its parent's
        held = app.extensions["storefront_local"] = State(pid=_Process.pid)
    return held


def forget(app: Flask) -> None:
    """Drop this app's counts and copies (tests, between two runs sharing one app)."""
    app.extensions.pop("storefront_local", None)


def sync_seconds() -> float:
    value = current_app.config.get("STOREFRONT_SYNC_SECONDS")
    return DEFAULT_SYNC_SECONDS if value is None else float(value)


def count(held: State, counters: list[tuple[str, int]]) -> list[int]:
    """Count one request on each (key, TTL); the estimated totals, this request included."""
    out = []
    with held.lock:
        for key, ttl in counters:
            entry = held.pending.get(key)
            if entry is None:
                entry = held.pending[key] = [0, ttl]
            entry[0] += 1
            flushing = held.flushing.get(key)
            out.append(held.totals.get(key, 0) + (flushing[0] if flushing else 0) + entry[0])
    return out


def tally(held: State, name: str) -> None:
    """Count one event in STATS_KEY's `name`, added with the next sync (a failed sync loses its counts)."""
    with held.lock:
        held.stats[name] = held.stats.get(name, 0) + 1


def due(held: State, now: float) -> bool:
    return not held.syncing and now - held.synced_at >= sync_seconds()


def fresh(held: State, now: float, synced: bool) -> bool:
    """Is this process's view fresh enough for a request to use its copies? (See the module's docstring.)"""
    interval = sync_seconds()
    age = now - held.synced_at
    return synced or age < interval or (held.syncing and age < 2 * interval)


def sync(held: State, redis: Redis, now: float) -> bool:
    """Add the pending counts to Redis, read the totals and the log; False if another thread is at it.
    Raises redis-py's errors (the counts in flight are then dropped: limits fail open)."""
    with held.lock:
        if held.syncing:
            return False
        held.syncing, held.flushing, held.pending = True, held.pending, {}
        flushing, log_id, stats, held.stats = held.flushing, held.log_id, held.stats, {}
    try:
        keys = list(flushing)
        counts, ttls = [flushing[k][0] for k in keys], [flushing[k][1] for k in keys]
        args: list[str | int | bytes] = [len(keys), *counts, *ttls, log_id, READ_MAX]
        args += [part for name, delta in stats.items() for part in (name, delta)]
        names = [*keys, LOG_KEY, GLOBAL_KEY, STATS_KEY]
        totals, gen, newest, oldest, entries = redis_scripts.run(redis, _SYNC, names, args)
        with held.lock:
            for key, total, ttl in zip(keys, totals, ttls, strict=True):
                if key not in held.totals:
                    held.ends.setdefault(int(now) + ttl + 1, []).append(key)
                held.totals[key] = int(total)
            _apply_log(held, gen, newest, oldest, entries)
            held.synced_at = now
            for second in [s for s in held.ends if s <= now]:
                for key in held.ends.pop(second):  # the window ended: Redis has let its counter go too
                    held.totals.pop(key, None)
        return True
    finally:
        with held.lock:
            held.syncing, held.flushing = False, {}


def _apply_log(held: State, gen: bytes, newest: bytes, oldest: bytes, entries: list[Any]) -> None:
    """Under the lock: drop the copies the log names since our position, or all of them (also on the first
    sync, when `global_gen` is None: there is nothing to drop yet, and reading starts after the newest entry)."""
    behind = bool(held.log_id) and bool(oldest) and _stream_id(oldest) > _stream_id(held.log_id)
    if gen != held.global_gen or behind or len(entries) >= READ_MAX:
        held.copies.clear()
        held.epoch += 1  # even with no copies: a read under way may have begun before a write this covers
        held.global_gen = gen
        held.log_id = newest or held.log_id or b"0-0"
        return
    for entry_id, fields in entries:
        held.log_id = entry_id
        held.epoch += 1
        names = _names(fields)
        if names is None:
            held.copies.clear()
            continue
        for name in names:
            held.copies.pop(name, None)


def append(pipe: Any, names: list[str]) -> None:
    """Queue on a Redis pipeline the log entry that makes every process's next sync drop these copies.

    A copy's name is "<kind>:<store id>:<key>" (the route's `Kept.name`, storefront/copies.py); the names of
    one entry are joined by newlines in its one field."""
    pipe.xadd(LOG_KEY, {"n": "\n".join(names)}, maxlen=LOG_LENGTH, approximate=True)


def _names(fields: list[bytes]) -> list[str] | None:
    """The names of one log entry (`append` wrote it); None if one is not "<kind>:<store id>:<key>" (a writer
    of another format: drop every copy rather than keep one it meant to drop)."""
    value = fields[1] if len(fields) > 1 else b""
    out = value.decode(errors="replace").split("\n")
    return out if all(name.count(":") >= 2 for name in out) else None


def drop(held: State, names: list[str], everything: bool = False) -> None:
    """This process's own commit bumped these customers (or all): their copies go now, not at the next sync."""
    with held.lock:
        held.epoch += 1
        if everything:
            held.copies.clear()
        for name in names:
            held.copies.pop(name, None)


def copy(held: State, name: str, fingerprint: bytes, now_ms: int) -> bytes | None:
    found = held.copies.get(name)
    if found is None or found[2] != fingerprint or found[1] <= now_ms:
        return None
    try:
        held.copies.move_to_end(name)
    except KeyError:  # dropped by a sync meanwhile: this answer was still current when read
        pass
    return found[0]


def keep(held: State, name: str, body: bytes, until_ms: int, fingerprint: bytes, epoch: int) -> None:
    with held.lock:
        if epoch != held.epoch:
            return
        held.copies[name] = (body, until_ms, fingerprint)
        held.copies.move_to_end(name)
        while len(held.copies) > MAX_COPIES:
            held.copies.popitem(last=False)


def monotonic() -> float:
    return time.monotonic()
