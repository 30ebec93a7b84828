"""The stand-in Shopify's query cost and per-shop leaky bucket, as Shopify's Admin GraphQL API applies them.

https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits: a query runs only if the shop's bucket holds
its requested cost; the bucket refills at restoreRate points per second up to maximumAvailable; a query that does
not fit is answered THROTTLED (HTTP 200, errors[].extensions.code, actualQueryCost null) and nothing runs. Every
answer carries extensions.cost with the bucket after the query.

The cost follows the documented rules closely enough for pacing: a scalar or enum field costs 0, an object 1, a
connection (a `first`/`last` argument) 2 plus that many times its selection, `nodes(ids:)` one selection per id,
and a mutation's root field 10. The refund of requested minus actual cost is not modelled (actual = requested).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, FieldNode, OperationDefinitionNode, OperationType, value_from_ast_untyped
from graphql.language import InlineFragmentNode, SelectionSetNode

MUTATION_COST = 10


def requested_cost(document: DocumentNode, variables: dict[str, Any] | None) -> int:
    total = 0
    for op in document.definitions:
        if not isinstance(op, OperationDefinitionNode):
            continue
        for selection in op.selection_set.selections:
            if isinstance(selection, FieldNode):
                mutation = op.operation == OperationType.MUTATION
                total += MUTATION_COST if mutation else _field_cost(selection, variables or {})
    return total


def _selection_cost(selection_set: SelectionSetNode | None, variables: dict[str, Any]) -> int:
    if selection_set is None:
        return 0
    cost = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            cost += _field_cost(selection, variables)
        elif isinstance(selection, InlineFragmentNode):
            cost += _selection_cost(selection.selection_set, variables)
    return cost


def _field_cost(field: FieldNode, variables: dict[str, Any]) -> int:
    if field.selection_set is None:
        return 0  # a scalar or an enum
    inner = _selection_cost(field.selection_set, variables)
    arguments = {a.name.value: value_from_ast_untyped(a.value, variables) for a in field.arguments or ()}
    if field.name.value == "nodes" and isinstance(arguments.get("ids"), list):
        return len(arguments["ids"]) * (1 + inner)
    size = arguments.get("first") or arguments.get("last")
    if isinstance(size, int):
        return 2 + size * inner
    return 1 + inner


@dataclass
class Bucket:
    """One shop's bucket; `available` None means full. Times are the stand-in's clock (StandInShopify.now)."""

    maximum: float = 2000.0
    restore_rate: float = 100.0
    available: float | None = None
    at: float = 0.0

    def level(self, now: float) -> float:
        if self.available is None:
            return self.maximum
        return min(self.maximum, self.available + max(0.0, now - self.at) * self.restore_rate)

    def charge(self, now: float, cost: int) -> bool:
        """Take `cost` points if the bucket holds them now; False (nothing taken) if it does not."""
        level = self.level(now)
        self.available, self.at = (level - cost, now) if cost <= level else (level, now)
        return cost <= level

    def extension(self, now: float, requested: int, actual: int | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": self.maximum,
                    "currentlyAvailable": int(self.level(now)),
                    "restoreRate": self.restore_rate,
                },
            }
        }
