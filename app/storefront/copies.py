"""The `kept=` route option: a door route's answers kept by this process and given again while current.

A route opts in with `kept=Kept(name=..., fingerprint=...)` and lets its answer function return
`Lasting(data, until_ms)` when the answer may be kept (until then at the latest). The guard looks for a copy
once the rate limiter has synced this process's view (`look`, called from guard.admit's reads: a copy found
there means the route's prefetch reads nothing), and `serve` gives the copy or computes, keeps and gives the
answer: one sequence for the WSGI door and the Flask views. The view repeats none of it.

What makes a copy exact is the feature's invalidation: after a commit that changes what a kept answer says,
the feature calls `local_state.drop` and `local_state.append` with the same names `Kept.name` builds (see
local_state.py for the sync and its bounds). A Cache-Control: no-cache request never uses a copy
(guard.no_cache).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from app.storefront import local_state

if TYPE_CHECKING:
    from app.storefront.registry import RouteSpec
    from app.storefront.shopper import Shopper


def _no_fingerprint(shopper: Shopper) -> bytes:
    return b""


@dataclass(frozen=True)
class Kept:
    # (shopper, path params) -> "<kind>:<store id>:<key>", or None when the request names nothing to keep
    # (an invalid id: the answer function refuses it).
    name: Callable[[Shopper, dict[str, Any]], str | None]
    # What the answer depends on besides the rows its name covers (settings, currency): a copy made under
    # another fingerprint is not used.
    fingerprint: Callable[[Shopper], bytes] = _no_fingerprint
    # A STATS_KEY field counted on each answer computed rather than copied (operators and bench/storefront.py).
    miss: str | None = None


@dataclass(frozen=True)
class Lasting:
    """An answer the route may keep, valid until `until_ms` (epoch milliseconds) at the latest."""

    data: Any
    until_ms: int


@dataclass
class Lookup:
    """One request's use of the copies: the epoch its reads began at, the name and fingerprint, the copy found."""

    epoch: int
    name: str | None
    fingerprint: bytes
    body: bytes | None


def now_ms() -> int:
    """The clock a copy's `until_ms` is compared with (epoch milliseconds)."""
    return int(time.time() * 1000)


def look(kept: Kept, shopper: Shopper, kwargs: dict[str, Any]) -> Lookup:
    """Before anything is read: the epoch first (a keep after a sync that dropped copies is refused)."""
    held = local_state.state()
    epoch = held.epoch
    name = kept.name(shopper, kwargs)
    if name is None:
        return Lookup(epoch, None, b"", None)
    fingerprint = kept.fingerprint(shopper)
    return Lookup(epoch, name, fingerprint, local_state.copy(held, name, fingerprint, now_ms()))


def serve(spec: RouteSpec, lookup: Lookup | None, shopper: Shopper, kwargs: dict[str, Any]) -> Any:
    """The route's answer: the copy `look` found, else the answer function's (kept when it says it lasts and
    the request may keep: `lookup` is None when the view was stale, Redis down or the request said no-cache)."""
    if lookup is not None and lookup.body is not None:
        return lookup.body
    assert spec.answer is not None  # kept routes are door routes (registry.storefront_route checks)
    data = spec.answer(shopper, **kwargs)
    if spec.kept is not None and spec.kept.miss:
        local_state.tally(local_state.state(), spec.kept.miss)
    if not isinstance(data, Lasting):
        return data
    if lookup is None or lookup.name is None:
        return data.data
    body = orjson.dumps(data.data)
    local_state.keep(local_state.state(), lookup.name, body, data.until_ms, lookup.fingerprint, lookup.epoch)
    return body
