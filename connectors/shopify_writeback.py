"""ShopifyWriteback: an AdminClient with the write-backs of the StoreClient protocol (writeback.py).

app/stores/clients.client_for builds one per store, e.g. ShopifyWriteback(store.domain, token, origin=...,
timeout=10.0). The operations live in shopify_discounts.py (discount codes, looked up by code first) and
shopify_metafields.py (customers' loyalty metafields, products' rating metafields); this class only binds them to
a client. Shopify keeps no review of ours, only each product's rating metafields: review_model is "ratings".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .shopify_admin import AdminClient
from .shopify_discounts import create_discount_code, delete_discount_code
from .shopify_metafields import (
    delete_metafields,
    loyalty_calls,
    loyalty_metafields,
    rating_identifiers,
    rating_metafields,
    set_metafields,
)
from .writeback import (
    CreatedDiscount,
    CreatedReview,
    DiscountSpec,
    LoyaltyBalance,
    LoyaltyWrite,
    ProductRating,
    ReviewModel,
    ReviewToPublish,
    write_in_calls,
)

if TYPE_CHECKING:
    from .writeback import StoreClient


class ShopifyWriteback(AdminClient):
    @property
    def review_model(self) -> ReviewModel:
        return "ratings"

    def create_discount(
        self, spec: DiscountSpec, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> CreatedDiscount:
        return create_discount_code(self, spec, now=now)

    def delete_discount(self, platform_id: str) -> bool:
        return delete_discount_code(self, platform_id)

    def write_loyalty(self, balances: Sequence[LoyaltyBalance], *, max_calls: int) -> LoyaltyWrite:
        """metafieldsSet, whole customers up to 25 metafields per call (shopify_metafields.loyalty_calls)."""
        return write_in_calls(loyalty_calls(balances), self._set_loyalty, max_calls)

    def _set_loyalty(self, batch: Sequence[LoyaltyBalance]) -> frozenset[str]:
        set_metafields(self, [m for b in batch for m in loyalty_metafields(b.customer_id, b.points, b.tier)])
        return frozenset()  # metafieldsSet is atomic per call: a refusal raises UserErrors for all of it

    def publish_ratings(self, ratings: Sequence[ProductRating]) -> None:
        """reviews.rating / reviews.rating_count set (one metafieldsSet call for up to 12 products), and deleted
        for products with no published review left (metafieldsDelete)."""
        fields = [m for r in ratings if r.count for m in rating_metafields(r.product_id, r.average, r.count)]
        removed = [i for r in ratings if not r.count for i in rating_identifiers(r.product_id)]
        if fields:
            set_metafields(self, fields)
        if removed:
            delete_metafields(self, removed)

    def publish_review(self, review: ReviewToPublish) -> CreatedReview:
        # The Admin API has no product review resource: a Shopify store's reviews are its rating metafields.
        raise NotImplementedError("Shopify stores keep ratings: use publish_ratings")


if TYPE_CHECKING:
    _conforms: type[StoreClient] = ShopifyWriteback
