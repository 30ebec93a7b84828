"""Redis and RQ: one connection per app, an embedded server when REDIS_URL is unset.

The embedded server (app/platform/embedded_redis.py) listens on a unix socket under
instance/; `flask serve` starts it once and hands its URL to the web, worker
and scheduler processes through REDIS_URL.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, cast

from flask import Flask, current_app
from redis import Redis
from rq import Queue

if TYPE_CHECKING:
    from werkzeug.local import LocalProxy

# Short timeouts: the webhook route must answer even when Redis hangs; what it
# could not enqueue, the sweeper enqueues later.
_SOCKET_TIMEOUT = 0.5


def start_embedded_redis(directory: str) -> str:
    """Start the embedded server (stopped when this process exits) and return its URL."""
    from app.platform.embedded_redis import EmbeddedRedis

    server = EmbeddedRedis(directory)
    _EMBEDDED.append(server)
    return server.url


_EMBEDDED: list[object] = []
_LOCK = threading.Lock()


def init_app(app: Flask) -> None:
    app.extensions["redis"] = None
    app.extensions["redis_down_until"] = 0.0


def redis_url(app: Flask) -> str:
    """The configured URL, starting the embedded server on first need."""
    with _LOCK:
        if not app.config.get("REDIS_URL"):
            app.config["REDIS_URL"] = start_embedded_redis(app.config["EMBEDDED_REDIS_PATH"])
        url: str = app.config["REDIS_URL"]
        return url


def get_redis() -> Redis:
    # current_app is typed Flask, but is werkzeug's LocalProxy to it: the app object itself, not the proxy.
    app = cast("LocalProxy[Flask]", current_app)._get_current_object()
    client: Redis | None = app.extensions["redis"]
    if client is None:
        client = Redis.from_url(redis_url(app), socket_timeout=_SOCKET_TIMEOUT, socket_connect_timeout=_SOCKET_TIMEOUT)
        app.extensions["redis"] = client
    return client


def get_queue() -> Queue:
    return Queue(current_app.config["RQ_QUEUE"], connection=get_redis())


def redis_available() -> bool:
    """False for a short while after a failure, so a dead Redis costs one timeout, not one per request."""
    down_until: float = current_app.extensions["redis_down_until"]
    return time.monotonic() >= down_until


def mark_redis_down(seconds: float = 2.0) -> None:
    current_app.extensions["redis_down_until"] = time.monotonic() + seconds
