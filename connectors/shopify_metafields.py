"""Shopify metafields written back: a customer's loyalty balance and tier, a product's review rating.

Docs relied on:
- https://shopify.dev/docs/api/admin-graphql/2026-10/mutations/metafieldsSet: an upsert, "a maximum of 25
  metafields to be set at a time", atomic per call (so a batch is all or nothing; earlier batches stay set,
  and a retry sets them again to the same values: harmless).
- https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/metafieldsDelete (and the 2024-04 changelog
  "delete up to 25 metafields at once"): by (ownerId, namespace, key); a missing one still succeeds (null).
- https://shopify.dev/docs/apps/build/custom-data/permissions: merchant-owned namespaces (anything not `$app`)
  are "readable in theme templates"; app-owned `$app:*` metafields are readable in Liquid only by the app's
  own theme app blocks, and only with a definition granting storefront access.
- https://shopify.dev/docs/apps/build/metafields/list-of-data-types (`rating`, `number_integer`,
  `single_line_text_field`) and https://shopify.dev/docs/api/liquid/objects/rating.

Choice: the balance and tier go in the merchant-owned namespace `loyalty` (customer.metafields.loyalty.points_balance
and .tier), so any theme and the notification e-mail templates can print them without a definition or an app
block. The trade-off is that the merchant (or another app) can edit them; they are a display copy, our ledger is
the truth and each write-back overwrites them. Ratings use the `reviews` namespace with `rating` and
`rating_count`, the names Shopify's standard product-review definitions and themes (Dawn's star rating) read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .shopify_admin import AdminClient, UserErrors
from .shopify_graphql import customer_gid, product_gid
from .writeback import LoyaltyBalance

METAFIELDS_PER_CALL = 25
LOYALTY_NAMESPACE = "loyalty"
LOYALTY_BALANCE_KEY = "points_balance"
LOYALTY_TIER_KEY = "tier"
REVIEWS_NAMESPACE = "reviews"
RATING_KEY = "rating"
RATING_COUNT_KEY = "rating_count"

SET_METAFIELDS = """
mutation MetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id namespace key }
    userErrors { field code message elementIndex }
  }
}
"""

DELETE_METAFIELDS = """
mutation MetafieldsDelete($metafields: [MetafieldIdentifierInput!]!) {
  metafieldsDelete(metafields: $metafields) {
    deletedMetafields { ownerId namespace key }
    userErrors { field message }
  }
}
"""


@dataclass(frozen=True)
class MetafieldInput:
    owner_gid: str
    namespace: str
    key: str
    type: str
    value: str


def set_metafields(client: AdminClient, metafields: Iterable[MetafieldInput]) -> list[dict[str, Any]]:
    """Set every metafield, METAFIELDS_PER_CALL per call; the metafields set ({id, namespace, key}).

    UserErrors carries the refused elements with elementIndex counted over the whole input list.
    """
    items = list(metafields)
    done: list[dict[str, Any]] = []
    for start in range(0, len(items), METAFIELDS_PER_CALL):
        batch = items[start : start + METAFIELDS_PER_CALL]
        variables = {
            "metafields": [
                {"ownerId": m.owner_gid, "namespace": m.namespace, "key": m.key, "type": m.type, "value": m.value}
                for m in batch
            ]
        }
        payload = client.execute(SET_METAFIELDS, variables).get("metafieldsSet") or {}
        errors = payload.get("userErrors") or []
        if errors:
            shifted = [{**e, "elementIndex": (e.get("elementIndex") or 0) + start} for e in errors]
            raise UserErrors(f"metafields refused after {len(done)} set", shifted)
        done.extend(payload.get("metafields") or [])
    return done


def delete_metafields(client: AdminClient, identifiers: Iterable[tuple[str, str, str]]) -> int:
    """Delete metafields given as (owner gid, namespace, key), METAFIELDS_PER_CALL per call; how many existed."""
    items = list(identifiers)
    deleted = 0
    for start in range(0, len(items), METAFIELDS_PER_CALL):
        batch = [{"ownerId": o, "namespace": n, "key": k} for o, n, k in items[start : start + METAFIELDS_PER_CALL]]
        payload = client.execute(DELETE_METAFIELDS, {"metafields": batch}).get("metafieldsDelete") or {}
        if payload.get("userErrors"):
            raise UserErrors("metafields delete refused", payload["userErrors"])
        deleted += sum(1 for d in payload.get("deletedMetafields") or [] if d)
    return deleted


def rating_identifiers(product_id: str) -> list[tuple[str, str, str]]:
    """The two rating metafields of a product, to delete when it has no published review left."""
    owner = product_gid(product_id)
    return [(owner, REVIEWS_NAMESPACE, RATING_KEY), (owner, REVIEWS_NAMESPACE, RATING_COUNT_KEY)]


def loyalty_metafields(customer_id: str, points_balance: int, tier: str | None) -> list[MetafieldInput]:
    """The customer's balance (number_integer) and, when they have one, tier (single_line_text_field)."""
    owner = customer_gid(customer_id)
    fields = [MetafieldInput(owner, LOYALTY_NAMESPACE, LOYALTY_BALANCE_KEY, "number_integer", str(int(points_balance)))]
    if tier:
        fields.append(MetafieldInput(owner, LOYALTY_NAMESPACE, LOYALTY_TIER_KEY, "single_line_text_field", tier))
    return fields


def loyalty_calls(balances: Sequence[LoyaltyBalance]) -> Iterator[list[LoyaltyBalance]]:
    """Whole customers per metafieldsSet call, up to METAFIELDS_PER_CALL metafields: a customer's balance and tier
    go in the same (atomic) call, so a refused call leaves no customer half written."""
    batch: list[LoyaltyBalance] = []
    size = 0
    for balance in balances:
        fields = len(loyalty_metafields(balance.customer_id, balance.points, balance.tier))
        if batch and size + fields > METAFIELDS_PER_CALL:
            yield batch
            batch, size = [], 0
        batch.append(balance)
        size += fields
    if batch:
        yield batch


def rating_metafields(
    product_id: str,
    average: Decimal,
    count: int,
    *,
    scale_min: Decimal = Decimal("1.0"),
    scale_max: Decimal = Decimal("5.0"),
) -> list[MetafieldInput]:
    """reviews.rating (type rating: JSON with string numbers) and reviews.rating_count (number_integer)."""
    if not isinstance(average, Decimal) or not scale_min <= average <= scale_max:
        raise ValueError("average must be a Decimal within the scale")
    owner = product_gid(product_id)
    rating = {"value": _one_place(average), "scale_min": _one_place(scale_min), "scale_max": _one_place(scale_max)}
    return [
        MetafieldInput(owner, REVIEWS_NAMESPACE, RATING_KEY, "rating", json.dumps(rating)),
        MetafieldInput(owner, REVIEWS_NAMESPACE, RATING_COUNT_KEY, "number_integer", str(int(count))),
    ]


def _one_place(value: Decimal) -> str:
    # One decimal is what star widgets show ("4.7"); the rating type wants numbers as strings.
    return format(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), "f")
