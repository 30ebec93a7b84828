"""Shopify connector: webhook verification and normalisation.

Docs relied on:
- Verifying deliveries (base64 HMAC-SHA256 of the raw body with the app's client
  secret, header X-Shopify-Hmac-Sha256; duplicates share X-Shopify-Event-Id):
  https://shopify.dev/docs/apps/build/webhooks/verify-deliveries
  https://shopify.dev/docs/apps/build/webhooks/ignore-duplicates
- Payload shapes per topic (REST resource JSON): https://shopify.dev/docs/api/webhooks
- Mandatory compliance topics:
  https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance

Write-backs (Admin GraphQL through the ShopifyAPI package) arrive with the
loyalty and reviews features; this module only reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, TypedDict

from . import parsing as p
from .base import MAX_KEY_LENGTH, Connector, WebhookMeta, body_digest
from .catalog import web_url
from .consent import marketing_state
from .countries import country_code
from .events import (
    AppUninstalled,
    BulkOperationFinished,
    ComplianceRequest,
    CustomerChanged,
    CustomerSnapshot,
    Event,
    FulfillmentChanged,
    FulfillmentSnapshot,
    LineItem,
    OrderChanged,
    OrderSnapshot,
    RefundCreated,
    RefundSnapshot,
    ShipmentEvent,
    Tracking,
)
from .exceptions import MalformedPayload
from .parsing import JSONObject

COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


class ShopifyConnector(Connector):
    platform = "shopify"
    signature_header = "X-Shopify-Hmac-Sha256"
    topics: ClassVar[Mapping[str, str]] = {
        "orders/create": "parse_order",
        "orders/paid": "parse_order",
        "orders/updated": "parse_order",
        "orders/cancelled": "parse_order",
        "refunds/create": "parse_refund_topic",
        "fulfillments/create": "parse_fulfillment_topic",
        "fulfillments/update": "parse_fulfillment_topic",
        "fulfillment_events/create": "parse_fulfillment_event",
        "customers/create": "parse_customer_topic",
        "customers/update": "parse_customer_topic",
        "app/uninstalled": "parse_uninstalled",
        # https://shopify.dev/docs/api/usage/bulk-operations/queries (subscribe to bulk_operations/finish):
        # {"admin_graphql_api_id": "gid://shopify/BulkOperation/1", "status": "completed", ...}
        "bulk_operations/finish": "parse_bulk_finish",
        **{topic: "parse_compliance" for topic in COMPLIANCE_TOPICS},
    }

    def webhook_meta(self, headers: Mapping[str, str]) -> WebhookMeta:
        return WebhookMeta(
            topic=(headers.get("X-Shopify-Topic") or "").strip(),
            source=(headers.get("X-Shopify-Shop-Domain") or "").strip().lower(),
            # Event-Id names the event and is the same on every retry; older
            # deliveries only carry Webhook-Id, which is also stable per retry.
            delivery_id=headers.get("X-Shopify-Event-Id") or headers.get("X-Shopify-Webhook-Id"),
        )

    def dedupe_key(self, meta: WebhookMeta, payload: JSONObject, body: bytes) -> str:
        # One event can fan out to several topics (orders/paid and orders/updated),
        # each a delivery we must process, so the topic is part of the key.
        identity = meta.delivery_id.strip() if meta.delivery_id else body_digest(body)
        return f"{meta.topic}|{identity}"[:MAX_KEY_LENGTH]

    # -- parsers ------------------------------------------------------------

    def parse_order(self, payload: Any, topic: str) -> list[Event]:
        return [OrderChanged(order_snapshot(p.obj(payload)))]

    def parse_refund_topic(self, payload: Any, topic: str) -> list[Event]:
        data = p.obj(payload)
        return [RefundCreated(refund_snapshot(data, p.platform_id(data.get("order_id"), "order_id")))]

    def parse_fulfillment_topic(self, payload: Any, topic: str) -> list[Event]:
        data = p.obj(payload)
        return [FulfillmentChanged(fulfillment_snapshot(data, p.platform_id(data.get("order_id"), "order_id")))]

    def parse_fulfillment_event(self, payload: Any, topic: str) -> list[Event]:
        data = p.obj(payload)
        happened = p.timestamp(data.get("happened_at"), "happened_at") or p.required_timestamp(
            data.get("created_at"), "created_at"
        )
        return [
            ShipmentEvent(
                platform_id=p.platform_id(data.get("id")),
                order_id=p.platform_id(data.get("order_id"), "order_id"),
                fulfillment_id=p.platform_id(data.get("fulfillment_id"), "fulfillment_id"),
                status=p.text(data.get("status"), 32) or "unknown",
                happened_at=happened,
                estimated_delivery_at=p.timestamp(data.get("estimated_delivery_at"), "estimated_delivery_at"),
            )
        ]

    def parse_customer_topic(self, payload: Any, topic: str) -> list[Event]:
        return [CustomerChanged(customer_snapshot(p.obj(payload)))]

    def parse_uninstalled(self, payload: Any, topic: str) -> list[Event]:
        return [AppUninstalled()]

    def parse_bulk_finish(self, payload: Any, topic: str) -> list[Event]:
        data = p.obj(payload)
        operation = p.text(data.get("admin_graphql_api_id"), 128)
        if not operation:
            raise MalformedPayload("admin_graphql_api_id: missing")
        return [BulkOperationFinished(operation_id=operation, status=p.text(data.get("status"), 32) or "")]

    def parse_compliance(self, payload: Any, topic: str) -> list[Event]:
        data = p.obj(payload)
        return [ComplianceRequest(topic=topic, payload=data)]


def customer_snapshot(
    data: JSONObject,
    *,
    fallback_email: str | None = None,
    fallback_phone: str | None = None,
    fallback_country: str | None = None,
    billing_country: str | None = None,
) -> CustomerSnapshot:
    """A customer resource (REST/webhook). Consent: email_marketing_consent.state and sms_marketing_consent.state
    (subscribed / not_subscribed / unsubscribed / pending / redacted, consent.py); the phone is the customer's,
    else the order's (`fallback_phone`, which the shopper gave at checkout), with its address's country. The
    customer's country is the default address's, else the order's billing country (`billing_country`)."""
    consent = p.optional_obj(data.get("email_marketing_consent"), "email_marketing_consent")
    accepts = consent.get("state") == "subscribed" if consent else data.get("accepts_marketing")
    sms = p.optional_obj(data.get("sms_marketing_consent"), "sms_marketing_consent")
    address = p.optional_obj(data.get("default_address"), "default_address")
    phone = p.text(data.get("phone"), 32)
    return CustomerSnapshot(
        platform_id=p.platform_id(data.get("id"), "customer.id"),
        email=p.text(data.get("email")) or fallback_email,
        first_name=p.text(data.get("first_name")),
        last_name=p.text(data.get("last_name")),
        phone=phone or fallback_phone,
        locale=p.text(data.get("locale"), 16),
        accepts_marketing=accepts if isinstance(accepts, bool) else None,
        updated_at=p.timestamp(data.get("updated_at"), "customer.updated_at"),
        sms_marketing_consent=marketing_state(sms.get("state")),
        phone_country=p.text(address.get("country_code"), 2) if phone else fallback_country,
        country=country_code(address.get("country_code")) or billing_country,
        tags=p.tags(data.get("tags")),
    )


def refund_snapshot(data: JSONObject, order_id: str) -> RefundSnapshot:
    # The refunded money is the sum of successful refund transactions; a refund
    # that only restocks items has none and refunds nothing.
    amount = Decimal("0")
    currency = None
    for tx in p.objects(data.get("transactions"), "transactions"):
        if tx.get("kind") == "refund" and tx.get("status") == "success":
            amount += p.money(tx.get("amount"), "transactions.amount")
            currency = currency or p.text(tx.get("currency"), 3)
    return RefundSnapshot(
        platform_id=p.platform_id(data.get("id"), "refund.id"),
        order_id=order_id,
        amount=amount,
        currency=currency,
        created_at=p.timestamp(data.get("created_at"), "refund.created_at"),
    )


def fulfillment_snapshot(data: JSONObject, order_id: str) -> FulfillmentSnapshot:
    return FulfillmentSnapshot(
        platform_id=p.platform_id(data.get("id"), "fulfillment.id"),
        order_id=order_id,
        status=p.text(data.get("status"), 32) or "pending",
        shipment_status=p.text(data.get("shipment_status"), 32),
        created_at=p.timestamp(data.get("created_at"), "fulfillment.created_at"),
        updated_at=p.timestamp(data.get("updated_at"), "fulfillment.updated_at"),
        # https://shopify.dev/docs/api/admin-rest/latest/resources/fulfillment: the first of tracking_numbers /
        # tracking_urls is the one tracking_number / tracking_url repeat.
        tracking_company=p.text(data.get("tracking_company"), 64),
        tracking_number=p.text(data.get("tracking_number"), 64),
        tracking_url=_https(p.text(data.get("tracking_url"), 512)),
        tracking=_tracking(data),
    )


def _https(url: str | None) -> str | None:
    """A tracking link we may put in a message: https only (no javascript: or http: link reaches a shopper)."""
    return url if url and url.startswith("https://") and url.isprintable() and " " not in url else None


def _tracking(data: JSONObject) -> tuple[Tracking, ...]:
    """tracking_company with tracking_numbers/tracking_urls (one URL per number, same order), else the singular
    fields: https://shopify.dev/docs/api/admin-rest/latest/resources/fulfillment. Lenient: a bad one is left out."""
    numbers, urls = data.get("tracking_numbers"), data.get("tracking_urls")
    numbers = numbers if isinstance(numbers, list) and numbers else [data.get("tracking_number")]
    urls = urls if isinstance(urls, list) and urls else [data.get("tracking_url")]
    carrier = p.lenient_text(data.get("tracking_company"), 64)
    found = []
    for index, raw in enumerate(numbers[:20]):
        number, url = p.tracking_number(raw), web_url(urls[index]) if index < len(urls) else None
        if number or url:
            found.append(Tracking(carrier=carrier, number=number, url=url))
    return tuple(found)


def _line_item(data: JSONObject) -> LineItem:
    return LineItem(
        platform_id=p.platform_id(data.get("id"), "line_items.id"),
        product_id=p.optional_id(data.get("product_id"), "line_items.product_id"),
        variant_id=p.optional_id(data.get("variant_id"), "line_items.variant_id"),
        title=p.text(data.get("title") or data.get("name")) or "",
        quantity=p.quantity(data.get("quantity"), "line_items.quantity"),
        price=p.money(data.get("price"), "line_items.price"),
    )


def order_snapshot(data: JSONObject) -> OrderSnapshot:
    order_id = p.platform_id(data.get("id"), "order.id")
    email = p.text(data.get("email")) or p.text(data.get("contact_email"))
    customer_data = data.get("customer")
    shipping = p.optional_obj(data.get("shipping_address"), "shipping_address")
    billing = p.optional_obj(data.get("billing_address"), "billing_address")
    order_phone = p.text(data.get("phone") or shipping.get("phone") or billing.get("phone"), 32)
    country = p.text(shipping.get("country_code") or billing.get("country_code"), 2)
    billed_in = country_code(billing.get("country_code"))
    customer = (
        customer_snapshot(
            customer_data, fallback_email=email, fallback_phone=order_phone, fallback_country=country,
            billing_country=billed_in,
        )
        if isinstance(customer_data, dict) and customer_data.get("id")
        else CustomerSnapshot(platform_id=None, email=email, phone_country=country, country=billed_in,
                              **_guest_name(data))
    )  # fmt: skip
    currency = p.text(data.get("currency"), 3)
    if not currency:
        raise MalformedPayload("order.currency: missing")
    return OrderSnapshot(
        platform_id=order_id,
        name=p.text(data.get("name"), 64),
        currency=currency.upper(),
        # total_price is the order total in the shop currency; refunds are
        # subtracted by us from refund records, so current_total_price (which
        # already nets them out) would count them twice.
        total=p.money(data.get("total_price"), "total_price"),
        subtotal=p.money(data.get("subtotal_price"), "subtotal_price"),
        created_at=p.required_timestamp(data.get("created_at"), "created_at"),
        updated_at=p.required_timestamp(data.get("updated_at") or data.get("created_at"), "updated_at"),
        financial_status=p.text(data.get("financial_status"), 32),
        fulfillment_status=p.text(data.get("fulfillment_status"), 32),
        customer=customer,
        locale=p.text(data.get("customer_locale"), 16),
        cancelled_at=p.timestamp(data.get("cancelled_at"), "cancelled_at"),
        discount_codes=tuple(
            str(d["code"]) for d in data.get("discount_codes") or [] if isinstance(d, dict) and d.get("code")
        ),
        line_items=tuple(_line_item(li) for li in p.objects(data.get("line_items"), "line_items")),
        refunds=tuple(refund_snapshot(r, order_id) for r in p.objects(data.get("refunds"), "refunds")),
        fulfillments=tuple(
            fulfillment_snapshot(f, order_id) for f in p.objects(data.get("fulfillments"), "fulfillments")
        ),
        # https://shopify.dev/docs/api/admin-rest/2024-04/resources/order (shipping_address, phone,
        # note_attributes [{name, value}], payment_details {credit_card_bin, credit_card_number (masked),
        # credit_card_company}: deprecated and often absent, used only when present).
        shipping_address=p.shipping_address(
            shipping,
            address1="address1",
            address2="address2",
            zip_key="zip",
            country="country_code",
        ),
        phone=p.text(data.get("phone") or shipping.get("phone"), 32),
        payment_fingerprint=_payment_fingerprint(data.get("payment_details")),
        referral_token=p.name_value(data.get("note_attributes"), p.REFERRAL_TOKEN_KEY),
    )


def _payment_fingerprint(details: Any) -> str | None:
    if not isinstance(details, dict):
        return None
    last4 = "".join(ch for ch in str(details.get("credit_card_number") or "") if ch.isdigit())[-4:]
    return p.fingerprint("card", details.get("credit_card_bin"), last4, details.get("credit_card_company"))


class _GuestName(TypedDict):
    """A guest's CustomerSnapshot fields taken from the order (its billing or shipping address)."""

    first_name: str | None
    last_name: str | None
    phone: str | None
    locale: str | None
    updated_at: datetime | None


def _guest_name(data: JSONObject) -> _GuestName:
    address = p.optional_obj(data.get("billing_address"), "billing_address") or p.optional_obj(
        data.get("shipping_address"), "shipping_address"
    )
    return {
        "first_name": p.text(address.get("first_name")),
        "last_name": p.text(address.get("last_name")),
        "phone": p.text(data.get("phone") or address.get("phone"), 32),
        "locale": p.text(data.get("customer_locale"), 16),
        "updated_at": p.timestamp(data.get("updated_at"), "updated_at"),
    }
