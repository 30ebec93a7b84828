"""Rate limits for the storefront API: fixed-window counters in Redis, one round trip per request.

Two counters per request, both scoped by store: the store's total (`STOREFRONT_RATE_STORE`, a cap on what
one store's widgets may cost us) and the caller's (`STOREFRONT_RATE_CLIENT`: the logged-in customer, else
the client address). Both are INCR + EXPIRE in one Lua script, with the MGET of the view's cache keys if its
route names them (RouteSpec.prefetch), so one command and one network round trip. The
window is numbered from the app's clock (shopper.clock), so tests move time instead of sleeping. Limits are
written "<requests>/<seconds>". If Redis is unreachable the request is served (limits fail open, logged):
the widgets matter more to the merchant than a counter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import current_app
from redis.exceptions import RedisError

from .. import redis_scripts
from ..queue import get_redis, mark_redis_down, redis_available
from ..redis_scripts import Script
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


@lru_cache(maxsize=64)
def _parsed(text: str) -> Limit:
    return Limit.parse(text)


def _limit(name: str, default: str) -> Limit:
    return _parsed(current_app.config.get(name) or default)  # parsed once per distinct setting, not per request


# INCR + EXPIRE per counter, then MGET of the view's keys, as ONE command: a pipeline of the same (two counters:
# five commands) cost more to pack and parse in redis-py than the round trip itself (bench/sfprofile.py).
# Sent on this thread's own connection (app/redis_scripts.py). Every key is in KEYS.
_SCRIPT = Script("""
local n = tonumber(ARGV[1])
local out = {}
for i = 1, n do
  out[i] = redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[i + 1])
end
if #KEYS > n then
  local values = redis.call('MGET', unpack(KEYS, n + 1))
  for j = 1, #values do out[n + j] = values[j] end
end
return out
""")


def check(store_id: int, client: str | None, reads: tuple[str, ...] = ()) -> tuple[int | None, dict[str, Any] | None]:
    """Count this request: (None if allowed, else the seconds until the exceeded window ends (Retry-After),
    the values of `reads` (GET in the same pipeline: one round trip for limits and a view's cache) or None)."""
    if not redis_available():
        return None, None
    now = clock()
    counters = [("s", str(store_id), _limit("STOREFRONT_RATE_STORE", DEFAULT_STORE_LIMIT))]
    if client:
        counters.append(("c", f"{store_id}:{client}", _limit("STOREFRONT_RATE_CLIENT", DEFAULT_CLIENT_LIMIT)))
    keys = [f"sf:rl:{scope}:{ident}:{int(now // limit.seconds)}" for scope, ident, limit in counters]
    ttls = [limit.seconds + 1 for _scope, _ident, limit in counters]  # the window's key outlives it by a second
    try:
        results = redis_scripts.run(get_redis(), _SCRIPT, [*keys, *reads], [len(keys), *ttls])
    except (RedisError, OSError):
        mark_redis_down()
        log.warning("storefront.rate_limit_unavailable", extra={"store_id": store_id})
        return None, None
    fetched = dict(zip(reads, results[len(keys) :], strict=True)) if reads else None
    retry_after = None
    for (scope, _ident, limit), count in zip(counters, results[: len(keys)], strict=True):
        if int(count) > limit.requests:
            wait = max(1, int(limit.seconds - now % limit.seconds + 0.999))
            retry_after = max(retry_after or 0, wait)
            log.info("storefront.rate_limited", extra={"store_id": store_id, "scope": scope})
    return retry_after, fetched
