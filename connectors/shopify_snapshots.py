"""Shopify order, customer, refund and fulfillment JSON to platform-neutral snapshots (connectors/events.py).

The REST resource JSON that webhooks carry (https://shopify.dev/docs/api/webhooks), and that the history
import spells the same way (connectors/shopify_history.py). Each function links the resource's docs it relies on.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict

from . import parsing as p
from .catalog import web_url
from .consent import marketing_state
from .countries import country_code
from .events import CustomerSnapshot, FulfillmentSnapshot, LineItem, OrderSnapshot, RefundSnapshot, Tracking
from .exceptions import MalformedPayload
from .parsing import JSONObject


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
