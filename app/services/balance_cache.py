"""A Redis copy of each customer's GET /me/balance answer, kept exact by generations bumped after commit.

The widget asks for the balance on every page a logged-in shopper opens; the answer changes only when a
write touches the customer's rows or when time passes a pending date. Keys, per store and platform customer
id (the only name the storefront knows a customer by):

- `sf:bal:<store>:<platform id>`: the answer, `<global gen>|<gen>|<store fingerprint>|<valid until ms>|<JSON>`;
- `sf:balgen:<store>:<platform id>`: the customer's generation, bumped after every commit that wrote their
  ledger rows, account, orders or customer row (services/balance_invalidation.py);
- `sf:balgen`: one global generation, bumped after a bulk write that names no customer (every copy goes).

A copy is used only if both generations equal the ones it was computed under, the store snapshot's
fingerprint (loyalty settings, currency) is the same, and the clock is before its `valid until` (the next
pending-to-spendable date, the start of the 30-day expiry notice, at most ENTRY_SECONDS). The reader reads
the generations BEFORE the database, and stores its answer only if they have not moved meanwhile (one Lua
script): a write committed during the read bumps a generation, so its answer is dropped, never kept stale.
A generation that does not exist yet is created with a random start, so a key that expired or was evicted
can never come back at a value an old copy carries. Both reads ride in the rate limiter's trip
(storefront/limits.py), so a hit costs no round trip and no SQL of its own.
Limits: a write made outside the app's SQLAlchemy sessions (hand-run SQL) is not seen: such a copy lives at
most ENTRY_SECONDS. A bump lost to a Redis failure after commit is made good by the process's next bump, which
also moves the global generation (within ENTRY_SECONDS in any case).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from typing import Any

from redis.exceptions import RedisError

from .. import redis_scripts
from ..queue import get_redis, mark_redis_down, redis_available
from ..redis_scripts import Script
from ..storefront import local_state

log = logging.getLogger(__name__)
ENTRY_SECONDS = 300  # the longest a copy is used: the bound on what a lost bump or an outside write leaves
# Any lifetime is safe for a generation: one that expired starts again at random, so no copy matches it and the
# next read is a miss. Twice a copy's lifetime keeps Redis' memory to the shoppers of the last minutes (a key
# for each customer written to in a day would be a key for most of a big store's customers).
GENERATION_SECONDS = 2 * ENTRY_SECONDS
GLOBAL_KEY = local_state.GLOBAL_KEY

# KEYS: global gen, customer gen, entry. ARGV: the two generations as read before the database ('' = none),
# two random starts for a generation that was missing, its TTL, the entry's TTL in ms, the entry.
# https://redis.io/docs/latest/develop/interact/programmability/eval-intro/
_STORE = Script("""
local function held(key, seen, fresh)
  local now = redis.call('GET', key)
  if seen == '' then
    if now then return false end
    redis.call('SET', key, fresh, 'EX', ARGV[5])
    return true
  end
  return now == seen
end
if held(KEYS[1], ARGV[1], ARGV[3]) and held(KEYS[2], ARGV[2], ARGV[4]) then
  redis.call('SET', KEYS[3], ARGV[7], 'PX', ARGV[6])
  return 1
end
return 0
""")


def keys(store_id: int, platform_id: str) -> tuple[str, str, str]:
    """(global generation, customer generation, entry): the balance route's prefetch, in this order."""
    return GLOBAL_KEY, f"sf:balgen:{store_id}:{platform_id}", f"sf:bal:{store_id}:{platform_id}"


def _start() -> bytes:
    return b"%d" % secrets.randbits(62)  # room for 2^62 bumps before INCR would overflow


def lookup(
    prefetched: dict[str, Any] | None, names: tuple[str, str, str], fingerprint: bytes, now_ms: int
) -> tuple[bytes, int] | None:
    """(the cached JSON bytes, valid until ms) if the copy is current, else None."""
    if not prefetched:
        return None
    entry = prefetched.get(names[2])
    if entry is None:
        return None
    try:
        global_gen, gen, print_, until, body = entry.split(b"|", 4)
    except ValueError:
        return None
    if (
        global_gen == (prefetched.get(names[0]) or b"")
        and gen == (prefetched.get(names[1]) or b"")
        and print_ == fingerprint
        and int(until) > now_ms
        and global_gen
        and gen
    ):
        return body, int(until)
    return None


def store(
    prefetched: dict[str, Any] | None,
    names: tuple[str, str, str],
    fingerprint: bytes,
    until_ms: int,
    now_ms: int,
    body: bytes,
) -> None:
    """Keep `body` (computed after the prefetch) unless a generation moved since. Sent without waiting for
    the reply (redis_scripts.send): the answer does not depend on it, and the request is spared one wait."""
    if prefetched is None or until_ms <= now_ms or not redis_available():
        return
    seen = [prefetched.get(names[0]) or b"", prefetched.get(names[1]) or b""]
    fresh = [_start(), _start()]
    used = [s or f for s, f in zip(seen, fresh, strict=True)]
    entry = b"|".join([*used, fingerprint, b"%d" % until_ms, body])
    ttl_ms = min(until_ms - now_ms, ENTRY_SECONDS * 1000)
    try:
        args = [*seen, *fresh, GENERATION_SECONDS, ttl_ms, entry]
        redis_scripts.send(get_redis(), _STORE, list(names), args)  # on the limiter's connection
    except (RedisError, OSError):
        mark_redis_down()
        log.warning("balance_cache.store_failed")


class _Debt:
    """A bump this process could not make (Redis down or failing): its next bump also moves the global
    generation, so copies the lost bump should have dropped go as soon as Redis answers again."""

    owed = False


def bump(pairs: Iterable[tuple[int, str]], everything: bool = False) -> None:
    """After a commit: new generations for these (store id, platform id) pairs, or for all (`everything`)."""
    pairs = list(pairs)
    if pairs or everything:
        local_state.drop(local_state.state(), pairs, everything)  # this process's copies at once
    names = [keys(store_id, platform_id)[1] for store_id, platform_id in pairs]
    if everything or _Debt.owed:
        names.append(GLOBAL_KEY)
    if not names:
        return
    if not redis_available():  # marked down a moment ago: not another timeout inside this commit
        _Debt.owed = True
        log.warning("balance_cache.bump_skipped", extra={"keys": len(names)})
        return
    try:
        pipe = get_redis().pipeline(transaction=False)
        for name in names:
            pipe.set(name, _start(), nx=True, ex=GENERATION_SECONDS)
            pipe.incr(name)
            pipe.expire(name, GENERATION_SECONDS)
        if pairs:  # the processes' own copies (storefront/local_state.py) learn it from the log
            local_state.append(pipe, pairs)
        pipe.execute()
        _Debt.owed = False
    except (RedisError, OSError):
        mark_redis_down()
        _Debt.owed = True
        log.warning("balance_cache.bump_failed", extra={"keys": len(names)})
