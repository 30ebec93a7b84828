"""Platform-neutral inputs and results of write-backs (discount codes, reviews), shared by both platforms.

Services build a DiscountSpec (loyalty redemption, a referral friend's code); a job hands it to
`ShopifyWriteback.create_discount_code` or `WooWriteback.create_coupon`. Both are retry-safe on the code: the
same spec sent twice (a lost answer, an RQ retry) never makes a second code, the second answer says created=False.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

DiscountKind = Literal["fixed_amount", "percentage", "free_shipping"]
KINDS: tuple[str, ...] = ("fixed_amount", "percentage", "free_shipping")


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
