"""The acknowledgement path: find the store, append to the inbox, kick a worker.

This runs on every webhook, so it stays on SQLAlchemy Core (one INSERT, one
COMMIT) and caches store lookups briefly. Durability comes first: the row is
committed before the route answers; the enqueue after it is best effort,
because the scheduler's sweeper enqueues whatever a lost kick left behind.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import Store, WebhookDelivery
from ..models.types import utcnow
from ..queue import get_queue, get_redis, mark_redis_down, redis_available
from ..security import secret_box

log = logging.getLogger(__name__)

#: Set while a drain job is queued; see app/tasks/inbox.py for the protocol.
KICK_KEY = "ppe:inbox:kick"
KICK_TTL_SECONDS = 60


@dataclass(frozen=True)
class StoreRef:
    id: int
    status: str
    webhook_secret: bytes | None


_cache: dict[tuple[str, str], tuple[float, StoreRef | None]] = {}
_cache_lock = threading.Lock()


def find_store(platform: str, domain: str) -> StoreRef | None:
    """The store for a webhook source, cached for STORE_CACHE_SECONDS (misses too)."""
    ttl = current_app.config["STORE_CACHE_SECONDS"]
    key = (platform, domain)
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
    if hit and hit[0] > now:
        return hit[1]
    row = db.session.execute(
        select(Store.id, Store.status, Store.credentials).where(Store.platform == platform, Store.domain == domain)
    ).first()
    db.session.rollback()  # end the read transaction; the insert uses its own connection
    ref = None
    if row is not None:
        secret = secret_box().open(row.credentials).get("webhook_secret") if platform == "woocommerce" else None
        ref = StoreRef(id=row.id, status=row.status, webhook_secret=secret.encode() if secret else None)
    if ttl > 0:
        with _cache_lock:
            _cache[key] = (now + ttl, ref)
    return ref


def forget_store(platform: str, domain: str) -> None:
    with _cache_lock:
        _cache.pop((platform, domain), None)


def record_delivery(store_id: int, platform: str, topic: str, dedupe_key: str, body: bytes) -> int | None:
    """Insert the delivery and commit. Returns its id, or None when it is a duplicate."""
    engine = db.engine
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(WebhookDelivery)
        .values(
            store_id=store_id,
            platform=platform,
            topic=topic,
            dedupe_key=dedupe_key,
            body=body,
            received_at=utcnow(),
            status="pending",
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["store_id", "dedupe_key"])
        .returning(WebhookDelivery.id)
    )
    with engine.begin() as conn:
        return conn.execute(stmt).scalar()


def kick_processing(force: bool = False) -> bool:
    """Make sure a drain job is queued. False when Redis could not be reached."""
    if not force and not redis_available():
        return False
    try:
        redis = get_redis()
        if force:
            redis.delete(KICK_KEY)
        if redis.set(KICK_KEY, "1", nx=True, ex=KICK_TTL_SECONDS):
            get_queue().enqueue("app.tasks.inbox.process_inbox", job_timeout=600, result_ttl=0, failure_ttl=7 * 86400)
        return True
    except RedisError:
        mark_redis_down()
        log.warning("webhook.enqueue_failed", exc_info=True)
        return False
