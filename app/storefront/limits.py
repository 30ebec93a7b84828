"""Rate limits for the storefront API: fixed-window counters in Redis, one round trip per request.

Two counters per request, both scoped by store: the store's total (`STOREFRONT_RATE_STORE`, a cap on what
one store's widgets may cost us) and the caller's (`STOREFRONT_RATE_CLIENT`: the logged-in customer, else
the client address). Both are INCR + EXPIRE in one non-transactional pipeline, with the MGET of the view's
cache keys if its route names them (RouteSpec.prefetch), so one network round trip. The
window is numbered from the app's clock (shopper.clock), so tests move time instead of sleeping. Limits are
written "<requests>/<seconds>". If Redis is unreachable the request is served (limits fail open, logged):
the widgets matter more to the merchant than a counter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app
from redis.exceptions import RedisError

from ..queue import get_redis, mark_redis_down, redis_available
from .shopper import clock

log = logging.getLogger(__name__)
DEFAULT_STORE_LIMIT = "3000/60"
DEFAULT_CLIENT_LIMIT = "120/60"


@dataclass(frozen=True)
class Limit:
    requests: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Limit:
        requests, _, seconds = str(text).partition("/")
        limit = cls(int(requests), int(seconds or 60))
        if limit.requests < 1 or limit.seconds < 1:
            raise ValueError(f"bad rate limit {text!r}")
        return limit


def _limit(name: str, default: str) -> Limit:
    return Limit.parse(current_app.config.get(name) or default)


def check(store_id: int, client: str | None, reads: tuple[str, ...] = ()) -> tuple[int | None, dict[str, Any] | None]:
    """Count this request: (None if allowed, else the seconds until the exceeded window ends (Retry-After),
    the values of `reads` (GET in the same pipeline: one round trip for limits and a view's cache) or None)."""
    if not redis_available():
        return None, None
    now = clock()
    counters = [("s", str(store_id), _limit("STOREFRONT_RATE_STORE", DEFAULT_STORE_LIMIT))]
    if client:
        counters.append(("c", f"{store_id}:{client}", _limit("STOREFRONT_RATE_CLIENT", DEFAULT_CLIENT_LIMIT)))
    pipe = get_redis().pipeline(transaction=False)
    for scope, ident, limit in counters:
        key = f"sf:rl:{scope}:{ident}:{int(now // limit.seconds)}"
        pipe.incr(key)
        pipe.expire(key, limit.seconds + 1)  # the window's key outlives it by a second, then goes
    if reads:
        pipe.mget(reads)
    try:
        results = pipe.execute()
    except (RedisError, OSError):
        mark_redis_down()
        log.warning("storefront.rate_limit_unavailable", extra={"store_id": store_id})
        return None, None
    fetched = dict(zip(reads, results.pop(), strict=True)) if reads else None
    retry_after = None
    for (scope, _ident, limit), count in zip(counters, results[::2], strict=True):
        if int(count) > limit.requests:
            wait = max(1, int(limit.seconds - now % limit.seconds + 0.999))
            retry_after = max(retry_after or 0, wait)
            log.info("storefront.rate_limited", extra={"store_id": store_id, "scope": scope})
    return retry_after, fetched
