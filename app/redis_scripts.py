"""Lua scripts on this thread's own Redis connection: the storefront's per-request Redis work, lean.

The rate limiter (storefront/limits.py) and the balance cache (services/balance_cache.py) run one script per
request. Through redis-py's Script and execute_command layers (argument tuples, its encoder, the retry
wrapper, the response callbacks, the pool's checkout) that cost as much CPU as the round trip itself
(bench/sfprofile.py). Here the command is packed once and sent on a connection this thread keeps; its reply
is read by the connection's own parser (hiredis when installed). EVALSHA, loading the script when the server
does not know it (first use, after a SCRIPT FLUSH). No retry: callers decide what a failure means. `send`
leaves a reply unread until the thread's next `run`, which reads it first: one wait saved per cache fill.
https://redis.io/docs/latest/develop/interact/programmability/eval-intro/
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from redis import Redis
from redis.connection import AbstractConnection
from redis.exceptions import NoScriptError, ResponseError


@dataclass(frozen=True)
class Script:
    lua: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.lua.encode(), usedforsecurity=False).hexdigest())


def pack(args: list[str | int | bytes]) -> list[bytes]:
    """One command in RESP (https://redis.io/docs/latest/develop/reference/protocol-spec/): an array of bulk
    strings. Our arguments are str keys, ints and bytes only, so no general encoder is needed."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else arg.encode() if isinstance(arg, str) else b"%d" % arg
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return [b"".join(parts)]


_own = threading.local()


@dataclass
class _Held:
    pool: Any
    pid: int
    conn: AbstractConnection
    unread: list[Script] = field(default_factory=list)  # scripts sent by `send` whose replies are not read yet
    known: set[str] = field(default_factory=set)  # scripts this connection has seen the server run


def _held(redis: Redis) -> _Held:
    """This thread's own connection to the app's Redis, made with its pool's settings (URL, db, auth, TLS,
    timeouts). The pool's checkout locks and probes the socket for stray data (three system calls and a GIL
    release per request); a connection of our own holds no stray reply: `run` reads every reply sent before
    its own, and any failure disconnects it (redis-py reconnects on the next send)."""
    pool = redis.connection_pool
    held: _Held | None = getattr(_own, "held", None)
    if held is None or held.pool is not pool or held.pid != os.getpid():
        held = _own.held = _Held(pool, os.getpid(), pool.connection_class(**pool.connection_kwargs))
    return held


def _command(script: Script, keys: list[str], args: list[str | int | bytes]) -> list[bytes]:
    return pack(["EVALSHA", script.sha, len(keys), *keys, *args])


def send(redis: Redis, script: Script, keys: list[str], args: list[str | int | bytes]) -> None:
    """Send the script and do not wait for its reply: the thread's next `run` reads it first (in the same
    read, usually) and drops it. For writes whose outcome the request does not need (a cache fill): Redis
    runs the script now; only the wait for its reply is saved. The first time on a connection it waits (the
    server may not know the script yet: a reply left unread could only say so too late)."""
    held = _held(redis)
    if script.sha not in held.known:
        run(redis, script, keys, args)
        return
    try:
        held.conn.send_packed_command(_command(script, keys, args))
    except BaseException:
        _drop(held)
        raise
    held.unread.append(script)


def _drop(held: _Held) -> None:
    held.unread.clear()
    held.known.clear()  # a new connection may meet a restarted server
    held.conn.disconnect()  # whatever was sent or left unread, it must not meet the next command


def run(redis: Redis, script: Script, keys: list[str], args: list[str | int | bytes]) -> Any:
    """The script's reply. Raises redis-py's errors (RedisError, OSError) as they come."""
    held = _held(redis)
    conn, command = held.conn, _command(script, keys, args)
    try:
        conn.send_packed_command(command)
        unknown = _read_unread(held)
        try:
            reply, ran = conn.read_response(), True
        except NoScriptError:  # a new or flushed server: load it once, then run it again
            unknown.append(script)
            reply, ran = None, False  # (a script may answer nil: None cannot say it did not run)
        for missing in unknown:
            conn.send_packed_command(pack(["SCRIPT", "LOAD", missing.lua]))
            conn.read_response()
        if not ran:
            conn.send_packed_command(command)
            reply = conn.read_response()
        held.known.add(script.sha)
        return reply
    except ResponseError:
        raise  # an error reply, read whole: the connection is in step
    except BaseException:
        _drop(held)
        raise


def settle(redis: Redis) -> None:
    """Read the replies `send` left unread on this thread's connection (tests: Redis has run them all)."""
    held = _held(redis)
    try:
        _read_unread(held)
    except BaseException:
        _drop(held)
        raise


def _read_unread(held: _Held) -> list[Script]:
    """Read and drop the replies of scripts `send` sent; the ones the server did not know, to load."""
    unknown: list[Script] = []
    while held.unread:
        script = held.unread.pop(0)
        try:
            held.conn.read_response()
        except NoScriptError:  # flushed since: that write is lost (a cache fill: the next miss fills it)
            held.known.discard(script.sha)
            unknown.append(script)
        except ResponseError:
            pass  # a script's own error: nothing waits for it
    return unknown
