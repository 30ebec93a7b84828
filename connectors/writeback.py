"""Platform-neutral write-backs: the StoreClient protocol, and its inputs and results.

Jobs get a StoreClient from app/stores/clients.client_for(store) and call only its methods, so no job branches on
the platform; ShopifyWriteback (shopify_writeback.py) and WooWriteback (woocommerce_writeback.py) implement it.
Services build a DiscountSpec (loyalty redemption, a referral friend's code); `create_discount` is retry-safe on the
code: the same spec sent twice (a lost answer, an RQ retry) never makes a second code, the second answer says
created=False.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol

from .catalog import ProductInfo
from .exceptions import ConnectorError, detached

DiscountKind = Literal["fixed_amount", "percentage", "free_shipping"]
KINDS: tuple[str, ...] = ("fixed_amount", "percentage", "free_shipping")
# How a store keeps the reviews we publish: each product's rating and count ("ratings": Shopify metafields), or
# each review ("reviews": WooCommerce product reviews, from which WooCommerce computes the product's rating).
ReviewModel = Literal["ratings", "reviews"]


@dataclass(frozen=True)
class DiscountSpec:
    """One discount code to create at the store.

    value: an amount in `currency` for fixed_amount, a percentage for percentage (Decimal("10") = 10 %),
    ignored for free_shipping. customer_platform_id limits a Shopify code to that customer; customer_email
    does the same on WooCommerce (email_restrictions). new_customers_only is enforced by Shopify through a
    customer segment; WooCommerce core has no such rule, so the WooCommerce coupon records it in meta_data
    and the service must check it when the order arrives.
    """

    code: str
    title: str
    kind: DiscountKind
    value: Decimal = Decimal("0")
    currency: str | None = None
    customer_platform_id: str | None = None
    customer_email: str | None = None
    usage_limit: int | None = 1
    once_per_customer: bool = False
    new_customers_only: bool = False
    minimum_subtotal: Decimal | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.code or self.code != self.code.strip():
            raise ValueError("code must be non-empty without surrounding spaces")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        if not isinstance(self.value, Decimal) or (
            self.minimum_subtotal is not None and not isinstance(self.minimum_subtotal, Decimal)
        ):
            raise TypeError("money and percentages are Decimal, never float")
        if self.kind != "free_shipping" and self.value <= 0:
            raise ValueError("value must be positive")
        if self.kind == "percentage" and self.value > 100:
            raise ValueError("a percentage is at most 100")
        if self.kind == "fixed_amount" and not self.currency:
            raise ValueError("a fixed amount needs its currency")
        if self.usage_limit is not None and self.usage_limit < 1:
            raise ValueError("usage_limit is at least 1 (None: unlimited)")
        for moment in (self.starts_at, self.ends_at):
            if moment is not None and moment.utcoffset() is None:
                raise ValueError("starts_at / ends_at must be timezone-aware")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")


@dataclass(frozen=True)
class CreatedDiscount:
    """The code at the store; created is False when it already existed (a retry, or a lost answer)."""

    code: str
    platform_id: str
    created: bool


@dataclass(frozen=True)
class CreatedReview:
    """A review at the store; created is False when the store already had it (a duplicate answered 409)."""

    platform_id: str | None
    created: bool


@dataclass(frozen=True)
class LoyaltyBalance:
    """A customer's loyalty figures as the store shows them (Shopify metafields, WooCommerce customer meta)."""

    customer_id: str  # the platform's customer id
    points: int  # spendable
    tier: str | None


@dataclass(frozen=True)
class LoyaltyWrite:
    """What write_loyalty did, by customer id, in the order given.

    written: in a call that succeeded; refused: the store refused the item in its answer (a WooCommerce batch
    item, or answered it stored other values), with its reason in `reasons` when the platform gave one; failed: in
    the call that raised `error`, which ended the writing. Customers in none of these were not tried (max_calls
    reached, or after the failed call): they are still to write.
    """

    calls: int
    written: tuple[str, ...]
    refused: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    error: ConnectorError | None = None
    reasons: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProductRating:
    """A product's published reviews summed up: the exact average and the count (0: none left to show)."""

    product_id: str
    average: Decimal
    count: int


@dataclass(frozen=True)
class ReviewToPublish:
    """One published review, as a store that keeps each review shows it."""

    product_id: str
    text: str
    reviewer: str
    reviewer_email: str
    rating: int
    verified: bool


class StoreClient(Protocol):
    """What the jobs ask of a store, whatever its platform (app/stores/clients.client_for builds one)."""

    def create_discount(self, spec: DiscountSpec) -> CreatedDiscount:
        """Create the code, looked up first: a retry after a lost answer finds it (created=False)."""
        ...

    def delete_discount(self, platform_id: str) -> bool:
        """Delete a code we created (its platform id from create_discount): True when deleted now, False when it
        was already gone, so a retry after a lost answer is not an error."""
        ...

    def products(self, product_ids: Iterable[str]) -> dict[str, ProductInfo]:
        """Title, image and link by numeric product id (connectors/catalog.py); unknown ids are absent."""
        ...

    def write_loyalty(self, balances: Sequence[LoyaltyBalance], *, max_calls: int) -> LoyaltyWrite:
        """Write balances and tiers in as many calls as the platform's batch limit needs, at most max_calls.

        Never raises a ConnectorError: the first call that fails stops the writing and is reported in the
        result with its customers, so the caller keeps what the calls before it wrote.
        """
        ...

    @property
    def review_model(self) -> ReviewModel:
        """Which of publish_ratings / publish_review carries this store's reviews."""
        ...

    def publish_ratings(self, ratings: Sequence[ProductRating]) -> None:
        """A "ratings" store: overwrite each product's rating and count; a count of 0 removes them."""
        ...

    def publish_review(self, review: ReviewToPublish) -> CreatedReview:
        """A "reviews" store: create the review once; a duplicate answers the existing one (created=False)."""
        ...


def write_in_calls(
    calls: Iterable[Sequence[LoyaltyBalance]],
    send: Callable[[Sequence[LoyaltyBalance]], Collection[str]],
    max_calls: int,
) -> LoyaltyWrite:
    """write_loyalty's loop over a platform's batches: `send` makes one call and answers the ids refused in it (a
    mapping when it has a reason for each)."""
    made = 0
    written: list[str] = []
    refused: list[str] = []
    reasons: dict[str, str] = {}
    for batch in calls:
        if made >= max_calls:
            break
        made += 1
        try:
            bad = send(batch)
        except ConnectorError as exc:
            failed = tuple(item.customer_id for item in batch)
            # Kept without its traceback: a caller holding the result would otherwise keep the failed call's
            # frames, connection and SSL context alive until a full GC (exceptions.detached).
            return LoyaltyWrite(made, tuple(written), tuple(refused), failed, detached(exc), reasons)
        if isinstance(bad, Mapping):
            reasons.update(bad)
        for item in batch:
            (refused if item.customer_id in bad else written).append(item.customer_id)
    return LoyaltyWrite(made, tuple(written), tuple(refused), reasons=reasons)
