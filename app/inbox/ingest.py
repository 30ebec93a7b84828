"""The acknowledgement path: find the store, append to the inbox, kick a worker.

This runs on every webhook, so it is lean: store lookups are cached briefly,
the insert is one precompiled statement in one round trip on PostgreSQL, and
the kick is debounced per process. Durability comes first: the row is
committed before the route answers; the enqueue after it is best effort,
because the scheduler's sweeper enqueues whatever a lost kick left behind.
bench/ingest.py measures this path against a bare Flask endpoint.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import Flask, current_app
from redis.exceptions import RedisError
from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from app.database import execute_autocommit
from app.extensions import db
from app.inbox.models import WebhookDelivery
from app.platform.logs import reason
from app.platform.queue import get_queue, get_redis, mark_redis_down, redis_available
from app.platform.types import utcnow

log = logging.getLogger(__name__)

#: Set while a drain job is queued; see app/inbox/tasks.py for the protocol.
KICK_KEY = "ppe:inbox:kick"
KICK_TTL_SECONDS = 60
#: The webhook route kicks at most once per this many seconds per process, and
#: never later than this after its commit (see kick_soon).
KICK_DEBOUNCE_SECONDS = 0.1


#: Column values of an inbox insert, in the order of the statements' placeholders.
_COLUMNS = ("store_id", "platform", "topic", "dedupe_key", "body", "received_at", "status", "attempts")
#: The PostgreSQL INSERT, written once with positional placeholders: %b sends the
#: body as binary (13 KB raw instead of 26 KB of hex for the server to decode),
#: and a tuple skips psycopg's named-placeholder mapping.
_POSTGRES_SQL = (
    "INSERT INTO webhook_inbox (store_id, platform, topic, dedupe_key, body, received_at, status, attempts) "
    "VALUES (%s, %s, %s, %s, %b, %s, %s, %s) ON CONFLICT (store_id, dedupe_key) DO NOTHING RETURNING id"
)


def _insert_statement(dialect_name: str) -> Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return (
        dialect.insert(WebhookDelivery)
        .on_conflict_do_nothing(index_elements=["store_id", "dedupe_key"])
        .returning(WebhookDelivery.id)
    )


def record_delivery(store_id: int, platform: str, topic: str, dedupe_key: str, body: bytes) -> int | None:
    """Insert the delivery and commit. Returns its id, or None when it is a duplicate."""
    engine = db.engine
    values = (store_id, platform, topic, dedupe_key, body, utcnow(), "pending", 0)
    if engine.dialect.name == "postgresql":
        return _insert_postgres(engine, values)
    with engine.begin() as conn:
        return conn.execute(_insert_statement(engine.dialect.name), dict(zip(_COLUMNS, values, strict=True))).scalar()


def _insert_postgres(engine: Engine, values: tuple[Any, ...]) -> int | None:
    """The hot path: one round trip on a pooled DBAPI connection, no ORM or Core execution.

    In autocommit mode (database.execute_autocommit) the INSERT is a transaction of its own, and PostgreSQL
    commits it (WAL flushed, synchronous_commit as configured) before it sends
    ReadyForQuery, which psycopg waits for before execute() returns: when we
    have the id, the row is durable. BEGIN and COMMIT would be two more round
    trips for the same guarantee. prepare=True makes it a server-side prepared
    statement on each connection's first use, rather than after psycopg's
    prepare_threshold executions.

    About 0.15 ms of CPU here per insert, against 1.3-2 ms for building,
    compiling and executing the Core statement in a BEGIN/COMMIT block.
    """
    rows = execute_autocommit(engine, _POSTGRES_SQL, values)
    row = rows[0] if rows else None
    return None if row is None else int(row[0])


def kick_processing(force: bool = False) -> bool:
    """Make sure a drain job is queued. False when Redis could not be reached."""
    if not force and not redis_available():
        return False
    try:
        redis = get_redis()
        if force:
            redis.delete(KICK_KEY)
        if redis.set(KICK_KEY, "1", nx=True, ex=KICK_TTL_SECONDS):
            # At the front: behind a burst's follow-up jobs the drain (every store's webhooks) would wait for all
            # of them. One drain job exists at a time, so the other workers still take the rest (bench/README.md,
            # "Fairness: the inbox's claim").
            get_queue().enqueue(
                "app.inbox.tasks.process_inbox", job_timeout=600, result_ttl=0, failure_ttl=7 * 86400, at_front=True
            )
        return True
    except RedisError as exc:
        mark_redis_down()
        log.warning("webhook.enqueue_failed", extra={"reason": reason(exc)})
        return False


class _Debounce:
    """Per-app state of kick_soon (per app, so a trailing kick uses the right Redis)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.quiet_until = 0.0  # no leading kick before this (monotonic seconds)
        self.trailing: threading.Timer | None = None


def kick_soon() -> None:
    """kick_processing() for the webhook route, at most one Redis round trip per
    KICK_DEBOUNCE_SECONDS per process instead of one per delivery.

    Call it after the commit. Either it kicks now, or a trailing kick is
    scheduled: by this call, or by an earlier one whose timer has not fired (the
    timer clears itself under the lock before it kicks, so a timer seen here
    kicks after this commit). Every delivery is thus followed by a kick within
    KICK_DEBOUNCE_SECONDS, which is what the protocol in app/inbox/tasks.py
    needs (a job that deleted KICK_KEY before this commit gets a successor). If
    the process dies in that window or Redis is down, the sweeper re-kicks rows
    pending over SWEEP_AFTER_SECONDS, as for any lost kick.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    debounce = app.config.get("KICK_DEBOUNCE_SECONDS", KICK_DEBOUNCE_SECONDS)
    if debounce <= 0:
        kick_processing()  # debouncing off (in-process tests: no timer thread outliving a test)
        return
    state: _Debounce = app.extensions.setdefault("webhook_kick", _Debounce())
    now = time.monotonic()
    with state.lock:
        lead = now >= state.quiet_until and state.trailing is None
        if lead:
            state.quiet_until = now + debounce
        elif state.trailing is None:
            state.trailing = threading.Timer(state.quiet_until - now, _trailing_kick, args=(app, state))
            state.trailing.daemon = True
            state.trailing.start()
    if lead:
        kick_processing()


def _trailing_kick(app: Flask, state: _Debounce) -> None:
    with state.lock:
        state.trailing = None
        state.quiet_until = time.monotonic() + app.config.get("KICK_DEBOUNCE_SECONDS", KICK_DEBOUNCE_SECONDS)
    with app.app_context():
        kick_processing()
