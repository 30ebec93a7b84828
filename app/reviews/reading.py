"""Published reviews for storefronts: a page of a product's reviews and its summary, cached in Redis.

Each (store, product) has a version counter in Redis; a cached answer carries the version it was computed at,
so a change (new review, publish, reject, reply) invalidates every cached page and the summary with one INCR.
A read is one round trip (MGET of the counter and the answer: a hit only if the versions match); for the
summary that MGET is the route's prefetch (summary_keys, RouteSpec.prefetch), and each web process also keeps
the summaries it answered (storefront/local_state.py): `invalidate` appends the product to the log every
process reads at its sync. Redis unavailable: answered from the database, uncached.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import orjson
from redis.exceptions import RedisError
from sqlalchemy import func, select

from app.extensions import db
from app.platform.logs import reason
from app.platform.queue import get_redis
from app.platform.redis_keys import store_tag
from app.reviews.models.review import PUBLISHED, Review
from app.reviews.service import as_public
from app.storefront import local_state

log = logging.getLogger(__name__)
PAGE_SIZE = 10
CACHE_SECONDS = 300
SORTS = {
    "newest": (Review.published_at.desc(), Review.id.desc()),
    "highest": (Review.rating.desc(), Review.published_at.desc(), Review.id.desc()),
    "lowest": (Review.rating.asc(), Review.published_at.desc(), Review.id.desc()),
}


def _version_key(store_id: int, product_id: str) -> str:
    return f"reviews:v:{store_tag(store_id)}:{product_id}"


def summary_copy_name(store_id: int, product_id: str) -> str:
    """The name of a product's kept review summary (reviews/storefront.py's `kept=` option)."""
    return f"reviews:{store_id}:{product_id}"


def invalidate(store_id: int, product_id: str) -> None:
    """A new version for the product's cached answers; every web process drops its summary copy at its next
    sync (storefront/local_state.py), this one at once."""
    name = summary_copy_name(store_id, product_id)
    local_state.drop(local_state.state(), [name])
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.incr(_version_key(store_id, product_id))
        local_state.append(pipe, [name])
        pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("reviews.cache_invalidate_failed", extra={"store_id": store_id, "reason": reason(exc)})


def cache_keys(store_id: int, product_id: str, suffix: str) -> tuple[str, str]:
    """(version key, answer key): what a read fetches, also in the rate limiter's trip (RouteSpec.prefetch)."""
    return _version_key(store_id, product_id), f"reviews:c:{store_tag(store_id)}:{product_id}:{suffix}"


def summary_keys(store_id: int, product_id: str) -> tuple[str, str]:
    return cache_keys(store_id, product_id, "summary")


def _cached(
    store_id: int, product_id: str, suffix: str, compute: Any, prefetched: dict[str, Any] | None = None
) -> dict[str, Any]:
    version_key, key = cache_keys(store_id, product_id, suffix)
    try:
        redis = get_redis()
        if prefetched is not None and version_key in prefetched and key in prefetched:
            version, hit = prefetched[version_key], prefetched[key]  # read with the rate limits: no trip here
        else:
            # redis-py types replies for its sync and asyncio clients alike (Awaitable | Any); this client is sync.
            version, hit = cast("list[Any]", redis.mget(version_key, key))
        version = int(version or 0)
        if hit is not None:
            cached = orjson.loads(hit)
            if cached.get("v") == version:
                return cached["answer"]
    except (RedisError, OSError, ValueError):
        return compute()
    value = compute()
    try:
        # Stored with the version read before computing: an INCR in between makes it stale at once, never wrong.
        redis.set(key, orjson.dumps({"v": version, "answer": value}), ex=CACHE_SECONDS)
    except (RedisError, OSError):
        pass
    return value


def _published(store_id: int, product_id: str) -> Any:
    return (Review.store_id == store_id, Review.product_id == product_id, Review.status == PUBLISHED)


def product_reviews(store_id: int, product_id: str, sort: str, page: int) -> dict[str, Any]:
    def compute() -> dict[str, Any]:
        rows = db.session.scalars(
            select(Review)
            .where(*_published(store_id, product_id))
            .order_by(*SORTS[sort])
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
        total = db.session.scalar(select(func.count(Review.id)).where(*_published(store_id, product_id))) or 0
        return {"reviews": [as_public(r) for r in rows], "page": page, "page_size": PAGE_SIZE, "total": total}

    return _cached(store_id, product_id, f"list:{sort}:{page}", compute)


def product_summary(store_id: int, product_id: str, prefetched: dict[str, Any] | None = None) -> dict[str, Any]:
    def compute() -> dict[str, Any]:
        counts = dict(
            db.session.execute(
                select(Review.rating, func.count(Review.id))
                .where(*_published(store_id, product_id))
                .group_by(Review.rating)
            )
            .tuples()  # typing only (the same Result at run time): rows as (rating, count) pairs for dict()
            .all()
        )
        distribution = {str(n): int(counts.get(n, 0)) for n in range(1, 6)}
        count = sum(distribution.values())
        total = sum(n * int(counts.get(n, 0)) for n in range(1, 6))
        # Two decimals as a string: JSON floats would turn 4.35 into 4.3499999...
        average = f"{total / count:.2f}" if count else None
        return {"product_id": product_id, "count": count, "average": average, "distribution": distribution}

    return _cached(store_id, product_id, "summary", compute, prefetched)
