"""Pacing Admin GraphQL calls by the cost Shopify reports, before Shopify has to refuse one.

Shopify limits each (app, store) pair by a leaky bucket of query cost points: a query runs only if the bucket
holds its `requestedQueryCost`, the difference to `actualQueryCost` is refunded afterwards, and the bucket refills
at `restoreRate` points per second up to `maximumAvailable`. Every answer, a THROTTLED one included, reports the
bucket in `extensions.cost.throttleStatus`.
https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
https://shopify.dev/docs/api/usage/limits#the-leaky-bucket-algorithm

The connector cannot know where a shop's bucket is shared (several workers call one shop), so AdminClient takes a
`Pacer` (app/stores/shopify_pacing.py keeps the buckets in Redis, per shop, for every worker): `before(shop,
cost)` returns once a query of `cost` points can go (or raises RateLimited when the wait is too long for a job to
sit through), `after(shop, status)` records what Shopify reported. The expected cost of a document is the
`requestedQueryCost` Shopify reported for it last time in this process (`CostMemo`), else DEFAULT_COST.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any, Protocol

#: A document not seen yet: about a nodes() lookup of 250 products or a connection of 100 nodes with children.
DEFAULT_COST = 100.0
#: Shopify refuses a single query over 1,000 points; no expected cost is above it.
MAX_QUERY_COST = 1000.0


@dataclass(frozen=True)
class ThrottleStatus:
    maximum: float
    available: float
    restore_rate: float


@dataclass(frozen=True)
class QueryCost:
    requested: float | None
    status: ThrottleStatus | None


def query_cost(body: Any) -> QueryCost:
    """`extensions.cost` of an answer; None fields when absent or malformed (nothing to pace by)."""
    cost = (body.get("extensions") or {}).get("cost") if isinstance(body, dict) else None
    if not isinstance(cost, dict):
        return QueryCost(None, None)
    requested = _number(cost.get("requestedQueryCost"))
    raw = cost.get("throttleStatus")
    status = None
    if isinstance(raw, dict):
        maximum, available, rate = (
            _number(raw.get(k)) for k in ("maximumAvailable", "currentlyAvailable", "restoreRate")
        )
        if maximum is not None and available is not None and rate:
            status = ThrottleStatus(maximum=maximum, available=available, restore_rate=rate)
    return QueryCost(requested, status)


class Pacer(Protocol):
    def before(self, shop: str, cost: float) -> None:
        """Return when `shop`'s bucket can take a query of `cost` points; RateLimited if not soon enough."""

    def after(self, shop: str, status: ThrottleStatus) -> None:
        """Record the bucket Shopify reported in an answer for `shop`."""


class CostMemo:
    """The last requestedQueryCost per document, in this process (documents are constants of the code)."""

    def __init__(self) -> None:
        self._costs: dict[str, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(document: str) -> str:
        return hashlib.sha1(document.encode(), usedforsecurity=False).hexdigest()

    def expected(self, document: str) -> float:
        with self._lock:
            return min(self._costs.get(self._key(document), DEFAULT_COST), MAX_QUERY_COST)

    def remember(self, document: str, requested: float | None) -> None:
        if requested is not None:
            with self._lock:
                self._costs[self._key(document)] = requested


COSTS = CostMemo()


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
