"""ShopifyWriteback: an AdminClient with the write-back operations (discount codes, metafields).

Jobs build one per store, e.g. ShopifyWriteback(store.domain, token, origin=..., timeout=10.0), and call
create_discount_code(spec) / set_metafields([...]). The operations live in shopify_discounts.py and
shopify_metafields.py; this class only binds them to a client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from .shopify_admin import AdminClient
from .shopify_discounts import create_discount_code, find_discount_code
from .shopify_metafields import MetafieldInput, delete_metafields, set_metafields
from .writeback import CreatedDiscount, DiscountSpec


class ShopifyWriteback(AdminClient):
    def create_discount_code(
        self, spec: DiscountSpec, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> CreatedDiscount:
        return create_discount_code(self, spec, now=now)

    def find_discount_code(self, code: str) -> str | None:
        return find_discount_code(self, code)

    def set_metafields(self, metafields: Iterable[MetafieldInput]) -> list[dict[str, Any]]:
        return set_metafields(self, metafields)

    def delete_metafields(self, identifiers: Iterable[tuple[str, str, str]]) -> int:
        return delete_metafields(self, identifiers)
