"""The Shopify call pacer of every worker: each shop's cost bucket in Redis (connectors/shopify_pacing.py).

One hash per shop, `shopify:bucket:{store:<id>}` (its store's hash tag, platform/redis_keys.py; by the shop domain
where no store is named): the points available at `at` (a Unix time), the bucket's size and restore rate, as Shopify
last reported them (`after`). Before a call (`before`), one script computes the level now (refilled at the restore
rate since `at`, at most the size), and takes the call's expected cost from it; the level may go below zero, which
is the callers already waiting: the next one waits longer, so calls from
several workers go out one restore interval apart instead of together. The wait is (cost - level) / rate (and a
margin). A wait
over SHOPIFY_PACE_MAX_WAIT_SECONDS takes nothing and raises RateLimited: the job's outbox row retries later (the
job's own backoff), rather than holding a worker. An answer overwrites the level with Shopify's count (which
already includes the refund of requested minus actual cost); calls still in flight from other workers are then
not counted until their own answers come, which Shopify's THROTTLED answer covers.
A shop never reported has no hash: its first call goes at once. Redis down: calls go unpaced (Shopify's THROTTLED
answer is still handled). https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError

from app.platform.metrics import throttle_waited
from app.platform.redis_keys import store_tag
from connectors.exceptions import RateLimited
from connectors.shopify_pacing import ThrottleStatus

log = logging.getLogger(__name__)

#: Added to every wait: our clock and Shopify's are not one clock, and a bucket that holds exactly the cost after
#: the wait is one rounding away from THROTTLED.
MARGIN_SECONDS = 0.01
#: A bucket not reported for this long is forgotten (a full one after a quiet hour, whatever the plan).
KEY_TTL_SECONDS = 3600

# KEYS[1] the shop's hash; ARGV now, cost, max_wait. Returns {taken (0/1), wait seconds as a string}.
RESERVE = """
local b = redis.call('HMGET', KEYS[1], 'available', 'maximum', 'rate', 'at')
if not b[1] then return {1, '0'} end
local available, maximum, rate, at = tonumber(b[1]), tonumber(b[2]), tonumber(b[3]), tonumber(b[4])
local now, cost, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
cost = math.min(cost, maximum)
local level = math.min(maximum, available + math.max(0, now - at) * rate)
local wait = 0
if level < cost then wait = (cost - level) / rate end
if wait > max_wait then return {0, tostring(wait)} end
redis.call('HSET', KEYS[1], 'available', tostring(level - cost), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return {1, tostring(wait)}
"""


def bucket_key(shop: str, store_id: int | None = None) -> str:
    """The shop's hash; with its store's hash tag when the store is known (platform/redis_keys.py)."""
    return f"shopify:bucket:{store_tag(store_id)}" if store_id is not None else f"shopify:bucket:{shop}"


class RedisPacer:
    """connectors.shopify_pacing.Pacer over Redis, shared by every process that calls a shop."""

    def __init__(
        self,
        redis: Redis,
        *,
        max_wait: float,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        store_id: int | None = None,
    ) -> None:
        self._redis = redis
        self._store_id = store_id
        self._reserve = redis.register_script(RESERVE)
        self._max_wait = max_wait
        self._clock = clock
        self._sleep = sleep

    def before(self, shop: str, cost: float) -> None:
        try:
            taken, wait = self._reserve(
                keys=[bucket_key(shop, self._store_id)],
                args=[repr(self._clock()), repr(cost), repr(self._max_wait), KEY_TTL_SECONDS],
            )
        except RedisError as exc:
            log.info("shopify.pace_unavailable", extra={"shop": shop, "reason": type(exc).__name__})
            return
        seconds = float(wait)
        if not int(taken):
            raise RateLimited("Shopify's cost bucket for this shop is empty", seconds)
        if seconds > 0:
            self._sleep(seconds + MARGIN_SECONDS)
            throttle_waited(seconds + MARGIN_SECONDS, operation="graphql")  # ppe_shopify_throttle_wait_seconds

    def after(self, shop: str, status: ThrottleStatus) -> None:
        key = bucket_key(shop, self._store_id)
        fields = {
            "available": repr(status.available),
            "maximum": repr(status.maximum),
            "rate": repr(status.restore_rate),
            "at": repr(self._clock()),
        }
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                pipe.hset(key, mapping=fields)
                pipe.expire(key, KEY_TTL_SECONDS)
                pipe.execute()
        except RedisError as exc:
            log.info("shopify.pace_unavailable", extra={"shop": shop, "reason": type(exc).__name__})
