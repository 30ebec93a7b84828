"""Rate limits for the storefront API: fixed-window counters in Redis, counted in process between syncs.

Two counters per request, both scoped by store: the store's total (`STOREFRONT_RATE_STORE`, a cap on what
one store's widgets may cost us) and the caller's (`STOREFRONT_RATE_CLIENT`: the logged-in customer, else
the client address). Each request is counted in this process and the counts reach Redis with the next sync
(local_state.py: every STOREFRONT_SYNC_SECONDS, one Lua script for every counter touched since), so a
request costs no round trip of its own; a route's cache keys (RouteSpec.prefetch) are read with one MGET
unless the process's own copy answers. The window is numbered from the app's clock (shopper.clock), so tests
move time instead of sleeping. Limits are written "<requests>/<seconds>". If Redis is unreachable the
request is served (limits fail open, logged): the widgets matter more to the merchant than a counter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import current_app
from redis.exceptions import RedisError

from app.platform import redis_scripts
from app.platform.logs import reason
from app.platform.queue import get_redis, mark_redis_down, redis_available
from app.platform.redis_keys import store_tag
from app.platform.redis_scripts import Script
from app.storefront import local_state
from app.storefront.shopper import clock

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


@lru_cache(maxsize=64)
def _parsed(text: str) -> Limit:
    return Limit.parse(text)


def _limit(name: str, default: str) -> Limit:
    return _parsed(current_app.config.get(name) or default)  # parsed once per distinct setting, not per request


# The MGET of a view's cache keys (RouteSpec.prefetch): one command on this thread's own connection
# (app/platform/redis_scripts.py); a pipeline cost more to pack and parse in redis-py than the round trip itself.
_READ = Script("return redis.call('MGET', unpack(KEYS))")

Reads = Callable[[bool], tuple[str, ...]]


def check(store_id: int, client: str | None, reads: Reads | None = None) -> tuple[int | None, dict[str, Any] | None]:
    """Count this request: (None if allowed, else the seconds until the exceeded window ends (Retry-After),
    the values of the keys `reads` names, or None). `reads` is called after the counting, with whether the
    process's view is fresh enough for its own copies (local_state.fresh): a route answered from them reads nothing."""
    if not redis_available():
        return None, None
    now, started = clock(), local_state.monotonic()
    tag = store_tag(store_id)  # one Redis Cluster slot per store (platform/redis_keys.py)
    counters = [("s", tag, _limit("STOREFRONT_RATE_STORE", DEFAULT_STORE_LIMIT))]
    if client:
        counters.append(("c", f"{tag}:{client}", _limit("STOREFRONT_RATE_CLIENT", DEFAULT_CLIENT_LIMIT)))
    # (key, TTL): the window's key outlives it by a second.
    keys = [(f"sf:rl:{s}:{ident}:{int(now // limit.seconds)}", limit.seconds + 1) for s, ident, limit in counters]
    held = local_state.state()
    totals = local_state.count(held, keys)
    retry_after = None
    for (scope, _ident, limit), total in zip(counters, totals, strict=True):
        if total > limit.requests:
            wait = max(1, int(limit.seconds - now % limit.seconds + 0.999))
            retry_after = max(retry_after or 0, wait)
            log.info("storefront.rate_limited", extra={"store_id": store_id, "scope": scope})
    redis = get_redis()
    try:
        synced = local_state.due(held, started) and local_state.sync(held, redis, started)
        # A refused request reads nothing: its answer is the 429.
        wanted = reads(local_state.fresh(held, started, synced)) if reads and retry_after is None else ()
        values = redis_scripts.run(redis, _READ, list(wanted), []) if wanted else []
    except (RedisError, OSError) as exc:
        mark_redis_down()
        log.warning("storefront.rate_limit_unavailable", extra={"store_id": store_id, "reason": reason(exc)})
        return None, None
    return retry_after, dict(zip(wanted, values, strict=True)) if reads else None
