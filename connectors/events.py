"""Platform-neutral events that connectors produce from webhook payloads.

Webhooks from both platforms carry *state*, not transitions: a WooCommerce
`order.updated` does not say what changed, and Shopify's `orders/updated` is sent
for every edit. So connectors normalise a payload into snapshots (the order as
it is now, with its platform `updated_at`) plus the few facts that only exist
as separate resources (a refund, a fulfilment, a shipment event). Services
compare a snapshot with what they hold and derive transitions (paid,
cancelled, delivered...) themselves, which is what makes duplicate and
out-of-order deliveries harmless.

Money is always `Decimal` in the currency named next to it; platform ids are
strings (Shopify's are 64-bit and must never pass through a float).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class CustomerSnapshot:
    platform_id: str | None  # None for a guest
    email: str | None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    locale: str | None = None
    accepts_marketing: bool | None = None
    updated_at: datetime | None = None
    # Per-channel consent as the platform reports it (None: not said). Shopify: sms_marketing_consent.state;
    # WooCommerce: the opt-in fields a store collects, as order/customer meta (connectors/consent.py).
    sms_marketing_consent: bool | None = None
    sms_consent: bool | None = None
    whatsapp_consent: bool | None = None
    whatsapp_marketing_consent: bool | None = None
    preferred_channel: str | None = None
    # ISO 3166 country of the address the phone came with: how a national number becomes E.164.
    phone_country: str | None = None
    # The customer's country (ISO 3166-1 alpha-2, validated: connectors/countries.py): Shopify's default address,
    # else the order's billing address; WooCommerce's billing country. A segment condition (docs/segments.md).
    country: str | None = None
    # The merchant's tags on the customer, case-folded, in the platform's order; None: the payload does not say
    # (WooCommerce has no customer tags; a Shopify order's customer object no longer carries them).
    tags: tuple[str, ...] | None = None


@dataclass(frozen=True)
class LineItem:
    platform_id: str
    product_id: str | None
    variant_id: str | None
    title: str
    quantity: int
    price: Decimal
    # WooCommerce (8.x+) line items carry the product's `image: {id, src}`; Shopify's never do (None).
    image_url: str | None = None


@dataclass(frozen=True)
class RefundSnapshot:
    platform_id: str
    order_id: str
    amount: Decimal  # positive, in the order's currency
    currency: str | None
    created_at: datetime | None


@dataclass(frozen=True)
class Tracking:
    """One parcel's tracking: Shopify's tracking_company/tracking_numbers/tracking_urls, or a WooCommerce
    shipment-tracking plugin's item (connectors/woocommerce_tracking.py). Validated strings or None."""

    carrier: str | None
    number: str | None
    url: str | None


@dataclass(frozen=True)
class FulfillmentSnapshot:
    platform_id: str
    order_id: str
    status: str  # pending, open, success, cancelled, error, failure
    shipment_status: str | None  # in_transit, delivered, ... when the carrier says
    created_at: datetime | None  # when it shipped
    updated_at: datetime | None
    # The parcel's tracking as the platform states it (Shopify: tracking_company / tracking_number /
    # tracking_url; WooCommerce: the shipment-tracking plugins' facts, when the connector reads them).
    tracking_company: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    estimated_delivery_at: datetime | None = None
    tracking: tuple[Tracking, ...] = ()
    # When it was delivered, where the platform says so apart from updated_at (WooCommerce: our plugin's mark).
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class OrderSnapshot:
    platform_id: str
    name: str | None
    currency: str
    total: Decimal
    subtotal: Decimal
    created_at: datetime
    updated_at: datetime
    financial_status: str | None  # pending, paid, partially_refunded, refunded, voided...
    fulfillment_status: str | None  # None, partial, fulfilled
    customer: CustomerSnapshot | None
    platform_status: str | None = None  # WooCommerce's own order status, as sent
    locale: str | None = None
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    discount_codes: tuple[str, ...] = ()
    line_items: tuple[LineItem, ...] = ()
    refunds: tuple[RefundSnapshot, ...] = ()
    fulfillments: tuple[FulfillmentSnapshot, ...] = ()
    # For referral fraud checks and attribution (optional: only what the payload carries).
    shipping_address: ShippingAddress | None = None
    phone: str | None = None
    # A hash of card BIN + last digits + brand (Shopify payment_details) or a gateway's stored source id
    # (WooCommerce meta), never a card number; None where the payload exposes nothing.
    payment_fingerprint: str | None = None
    # The referral landing token the storefront passed: Shopify note attribute / WooCommerce meta `_ppe_ref`.
    referral_token: str | None = None


@dataclass(frozen=True)
class ShippingAddress:
    address1: str | None
    address2: str | None
    city: str | None
    zip: str | None
    country_code: str | None
    phone: str | None = None


@dataclass(frozen=True)
class OrderChanged:
    """orders/create|paid|updated|cancelled, order.created|updated|restored."""

    order: OrderSnapshot
    restored: bool = False  # order.restored: undoes an earlier OrderDeleted


@dataclass(frozen=True)
class OrderDeleted:
    order_id: str


@dataclass(frozen=True)
class RefundCreated:
    refund: RefundSnapshot


@dataclass(frozen=True)
class FulfillmentChanged:
    fulfillment: FulfillmentSnapshot


@dataclass(frozen=True)
class ShipmentEvent:
    """A carrier event on one fulfilment (fulfillment_events/create)."""

    platform_id: str
    order_id: str
    fulfillment_id: str
    status: str  # delivered, in_transit, out_for_delivery, failure, ...
    happened_at: datetime
    # The carrier's promise at this event (Shopify fulfillment_event.estimated_delivery_at), when it gives one.
    estimated_delivery_at: datetime | None = None


@dataclass(frozen=True)
class CustomerChanged:
    customer: CustomerSnapshot


@dataclass(frozen=True)
class AppUninstalled:
    pass


@dataclass(frozen=True)
class BulkOperationFinished:
    """Shopify's bulk_operations/finish: a bulk query of ours ended (a history import goes on)."""

    operation_id: str
    status: str


@dataclass(frozen=True)
class ComplianceRequest:
    """customers/data_request, customers/redact, shop/redact: stored now, handled later."""

    topic: str
    payload: dict[str, Any] = field(hash=False, compare=False)


Event = (
    OrderChanged
    | OrderDeleted
    | RefundCreated
    | FulfillmentChanged
    | ShipmentEvent
    | CustomerChanged
    | AppUninstalled
    | BulkOperationFinished
    | ComplianceRequest
)


def order_platform_id(event: object) -> str | None:
    """The platform id of the order an event is about (None for events about no order)."""
    if isinstance(event, OrderChanged):
        return event.order.platform_id
    if isinstance(event, RefundCreated):
        return event.refund.order_id
    if isinstance(event, FulfillmentChanged):
        return event.fulfillment.order_id
    if isinstance(event, OrderDeleted | ShipmentEvent):
        return event.order_id
    return None
