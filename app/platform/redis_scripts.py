"""Lua scripts on this thread's own Redis connection: the storefront's per-request Redis work, lean.

The storefront's limits sync (storefront/local_state.py) and its cache reads (storefront/limits.py) run one
script per trip. Through redis-py's Script and execute_command layers (argument tuples, its encoder, the retry
wrapper, the response callbacks, the pool's checkout) that cost as much CPU as the round trip itself
(bench/sfprofile.py). Here the command is packed once and sent on a connection this thread keeps; its reply
is read by the connection's own parser (hiredis when installed). EVALSHA, loading the script when the server
does not know it (first use, after a SCRIPT FLUSH). No retry: callers decide what a failure means.
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


def _held(redis: Redis) -> _Held:
    """This thread's own connection to the app's Redis, made with its pool's settings (URL, db, auth, TLS,
    timeouts). The pool's checkout locks and probes the socket for stray data (three system calls and a GIL
    release per request); a connection of our own holds no stray reply: `run` reads its reply before it
    returns, and any failure disconnects it (redis-py reconnects on the next send)."""
    pool = redis.connection_pool
    held: _Held | None = getattr(_own, "held", None)
    if held is None or held.pool is not pool or held.pid != os.getpid():
        held = _own.held = _Held(pool, os.getpid(), pool.connection_class(**pool.connection_kwargs))
    return held


def _command(script: Script, keys: list[str], args: list[str | int | bytes]) -> list[bytes]:
    return pack(["EVALSHA", script.sha, len(keys), *keys, *args])


def _drop(held: _Held) -> None:
    held.conn.disconnect()  # whatever was sent or left unread, it must not meet the next command


def run(redis: Redis, script: Script, keys: list[str], args: list[str | int | bytes]) -> Any:
    """The script's reply. Raises redis-py's errors (RedisError, OSError) as they come."""
    held = _held(redis)
    conn, command = held.conn, _command(script, keys, args)
    try:
        conn.send_packed_command(command)
        try:
            reply, ran = conn.read_response(), True
        except NoScriptError:  # a new or flushed server: load it once, then run it again
            reply, ran = None, False  # (a script may answer nil: None cannot say it did not run)
        if not ran:
            conn.send_packed_command(pack(["SCRIPT", "LOAD", script.lua]))
            conn.read_response()
            conn.send_packed_command(command)
            reply = conn.read_response()
        return reply
    except ResponseError:
        raise  # an error reply, read whole: the connection is in step
    except BaseException:
        _drop(held)
        raise
