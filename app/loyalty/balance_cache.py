"""Invalidation of the web processes' copies of GET /me/balance, sent after every commit that changes one.

Each web process keeps the balance answers it gave (storefront/local_state.py) and answers a shopper's next
pages from them with no round trip. What makes that exact: after a commit that wrote a customer's ledger
rows, account, orders or customer row (loyalty/balance_invalidation.py names them), `bump` drops this
process's copies at once and appends the customers' names to a Redis stream that every process reads at its
next sync (every STOREFRONT_SYNC_SECONDS); a bulk write that names no customer moves the global generation
(`sf:balgen`) instead, and every process then drops every copy. A copy also ends at its `valid until` (the
next pending-to-spendable date, the start of the 30-day expiry notice, at most ENTRY_SECONDS).

Limits: a write made outside the app's SQLAlchemy sessions (hand-run SQL) is not seen: such a copy lives at
most ENTRY_SECONDS. A bump lost to a Redis failure after commit is made good by the process's next bump, which
also moves the global generation (within ENTRY_SECONDS in any case).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable

import orjson
from redis.exceptions import RedisError

from app.platform.logs import reason
from app.platform.queue import get_redis, mark_redis_down, redis_available
from app.storefront import local_state
from app.stores.cache import StoreRef

log = logging.getLogger(__name__)
ENTRY_SECONDS = 300  # the longest a copy is used: the bound on what a lost bump or an outside write leaves
GLOBAL_KEY = local_state.GLOBAL_KEY
# The global generation may expire: the processes then see it missing, which differs from what they hold, and
# drop their copies once. A new one starts at random, so it can never come back at a value a process holds.
GLOBAL_SECONDS = 86_400


class _Debt:
    """A bump this process could not make (Redis down or failing): its next bump also moves the global
    generation, so copies the lost bump should have dropped go as soon as Redis answers again."""

    owed = False


def copy_name(store_id: int, platform_id: str) -> str:
    """The name of a customer's kept GET /me/balance answer (loyalty/storefront.py's `kept=` option)."""
    return f"balance:{store_id}:{platform_id}"


def bump(pairs: Iterable[tuple[int, str]], everything: bool = False) -> None:
    """After a commit: drop the copies of these (store id, platform id) pairs everywhere, or all (`everything`)."""
    pairs = list(pairs)
    names = [copy_name(store_id, platform_id) for store_id, platform_id in pairs]
    if pairs or everything:
        local_state.drop(local_state.state(), names, everything)  # this process's copies at once
    move_global = everything or _Debt.owed
    if not pairs and not move_global:
        return
    if not redis_available():  # marked down a moment ago: not another timeout inside this commit
        _Debt.owed = True
        log.warning(
            "balance_cache.bump_skipped", extra={"customers": len(pairs), "reason": "Redis marked down a moment ago"}
        )
        return
    try:
        pipe = get_redis().pipeline(transaction=False)
        if move_global:
            pipe.set(GLOBAL_KEY, b"%d" % secrets.randbits(62), nx=True, ex=GLOBAL_SECONDS)
            pipe.incr(GLOBAL_KEY)
            pipe.expire(GLOBAL_KEY, GLOBAL_SECONDS)
        if pairs:  # every process's next sync reads it (storefront/local_state.py)
            local_state.append(pipe, names)
        pipe.execute()
        _Debt.owed = False
    except (RedisError, OSError) as exc:
        mark_redis_down()
        _Debt.owed = True
        log.warning("balance_cache.bump_failed", extra={"customers": len(pairs), "reason": reason(exc)})


def fingerprint(ref: StoreRef) -> bytes:
    """What a kept balance answer depends on besides the customer's rows: a copy made under other loyalty settings
    or in another currency is not used. Once per store snapshot."""

    def digest() -> bytes:
        raw = orjson.dumps([ref.id, ref.currency, ref.settings.get("loyalty", {})], option=orjson.OPT_SORT_KEYS)
        return hashlib.blake2b(raw, digest_size=8).hexdigest().encode()

    return ref.memo("loyalty.fingerprint", digest)
