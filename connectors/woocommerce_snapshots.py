"""WooCommerce order and customer JSON to platform-neutral snapshots (connectors/events.py).

Docs relied on:
- Order and customer JSON (REST v3, the same body a webhook carries):
  https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties
- Tracking numbers and "delivered" (meta of shipment-tracking plugins, our plugin's `ppe_tracking`):
  connectors/woocommerce_tracking.py

Money fields are strings, refund totals are negative, customer_id 0 is a guest,
and *_gmt dates carry no offset but are UTC.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from . import parsing as p
from .catalog import https_url
from .consent import woo_opt_ins
from .countries import country_code
from .events import CustomerSnapshot, FulfillmentSnapshot, LineItem, OrderSnapshot, RefundSnapshot
from .exceptions import MalformedPayload
from .parsing import JSONObject
from .woocommerce_tracking import ShipmentFacts, shipment_facts

# on-hold waits for payment (bank transfer, cheque): not paid until date_paid is set.
_PAID_STATUSES = {"processing", "completed", "delivered"}  # delivered: AST's status after completed
# Order meta keys multilingual plugins use to record the shopper's language.
_LOCALE_META_KEYS = ("wpml_language", "trp_language", "pll_language", "locale")


def customer_snapshot(data: JSONObject) -> CustomerSnapshot:
    """A customer resource (REST/webhook); what the account lacks is taken from its billing address."""
    billing = p.optional_obj(data.get("billing"), "billing")
    return CustomerSnapshot(
        platform_id=p.platform_id(data.get("id"), "customer.id"),
        email=p.text(data.get("email")) or p.text(billing.get("email")),
        first_name=p.text(data.get("first_name")) or p.text(billing.get("first_name")),
        last_name=p.text(data.get("last_name")) or p.text(billing.get("last_name")),
        phone=p.text(billing.get("phone"), 32),
        locale=_meta_locale(data),
        updated_at=_gmt(data, "date_modified") or _gmt(data, "date_created"),
        phone_country=p.text(billing.get("country"), 2),
        country=country_code(billing.get("country")),  # WooCommerce keeps no customer tags
        **woo_opt_ins(data.get("meta_data")),
    )


def _gmt(data: JSONObject, name: str) -> datetime | None:
    return p.timestamp(data.get(f"{name}_gmt"), f"{name}_gmt", assume_utc=True)


def _meta_locale(data: JSONObject) -> str | None:
    items = data.get("meta_data")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("key") in _LOCALE_META_KEYS and isinstance(item.get("value"), str):
            return p.text(item["value"], 16)
    return None


def _line_item(data: JSONObject) -> LineItem:
    quantity = p.quantity(data.get("quantity"), "line_items.quantity")
    subtotal = p.money(data.get("subtotal"), "line_items.subtotal")
    # `price` is a JSON float in the REST response; the subtotal string is exact.
    price = (subtotal / quantity).quantize(Decimal("0.01")) if quantity else subtotal
    image = data.get("image")  # {id, src} in newer WooCommerce versions; absent in older ones
    return LineItem(
        platform_id=p.platform_id(data.get("id"), "line_items.id"),
        product_id=p.optional_id(data.get("product_id"), "line_items.product_id"),
        variant_id=p.optional_id(data.get("variation_id"), "line_items.variation_id"),
        title=p.text(data.get("name")) or "",
        quantity=quantity,
        price=price,
        image_url=https_url(image.get("src")) if isinstance(image, dict) else None,
    )


#: A status is a slug (core ones and plugins' custom statuses, stored as `wc-<slug>`, up to 20 characters).
_STATUS = re.compile(r"[a-z0-9_-]{1,32}")


def _status(value: Any) -> str:
    if value in (None, ""):
        return "pending"
    if not isinstance(value, str) or not _STATUS.fullmatch(value):
        raise MalformedPayload(f"order.status: {str(value)[:40]!r} is not a status")
    return value


def _financial_status(status: str, paid: bool) -> str:
    if status == "refunded":
        return "refunded"
    if status in ("failed", "cancelled") and not paid:
        return "voided"
    return "paid" if paid else "pending"


def _completion(
    order_id: str, completed_at: datetime | None, modified: datetime, facts: ShipmentFacts
) -> tuple[FulfillmentSnapshot, ...]:
    """WooCommerce has no fulfilment resource: status "completed" means shipped.

    It becomes one synthetic parcel per order, so both platforms share one fulfilment model. A shipment-tracking
    plugin's numbers and a "delivered" mark (connectors/woocommerce_tracking.py) go on that parcel; tracking or a
    delivered mark on an order not yet completed ships it too (from the tracking's date, else the update's).
    """
    if completed_at is None and not facts.tracking and not facts.delivered:
        return ()
    first = (
        facts.tracking[0] if facts.tracking else None
    )  # the parcel's headline tracking, as Shopify's singular fields
    return (
        FulfillmentSnapshot(
            platform_id=f"{order_id}-completed",
            order_id=order_id,
            status="success",
            shipment_status="delivered" if facts.delivered else facts.carrier_status,
            created_at=completed_at or facts.shipped_at or modified,
            updated_at=modified,
            tracking=facts.tracking,
            tracking_company=first.carrier if first else None,
            tracking_number=first.number if first else None,
            tracking_url=first.url if first and first.url and first.url.startswith("https://") else None,
            delivered_at=(facts.delivered_at or modified) if facts.delivered else None,
            estimated_delivery_at=facts.estimated_delivery_at,
        ),
    )


def order_snapshot(data: JSONObject) -> OrderSnapshot:
    order_id = p.platform_id(data.get("id"), "order.id")
    status = _status(data.get("status"))
    billing = p.optional_obj(data.get("billing"), "billing")
    shipping = p.optional_obj(data.get("shipping"), "shipping")
    items = p.objects(data.get("line_items"), "line_items")
    modified = _gmt(data, "date_modified") or _gmt(data, "date_created")
    created = _gmt(data, "date_created")
    if modified is None or created is None:
        raise MalformedPayload("order: date_created_gmt and date_modified_gmt are required")
    paid_at = _gmt(data, "date_paid")
    currency = p.text(data.get("currency"), 3)
    if not currency:
        raise MalformedPayload("order.currency: missing")
    line_items = tuple(_line_item(li) for li in items)
    locale = _meta_locale(data)  # read once: the order's and its customer's (each a walk of meta_data)
    customer_id = p.optional_id(data.get("customer_id"), "customer_id")
    return OrderSnapshot(
        platform_id=order_id,
        name=p.text(data.get("number"), 64),
        currency=currency.upper(),
        total=p.money(data.get("total"), "total"),
        # Line totals are after discounts and before tax and shipping: the
        # amount loyalty rules count by default.
        subtotal=sum((p.money(li.get("total"), "line_items.total") for li in items), Decimal(0)),
        created_at=created,
        updated_at=modified,
        financial_status=_financial_status(status, paid_at is not None or status in _PAID_STATUSES),
        fulfillment_status="fulfilled" if status in ("completed", "delivered") else None,
        platform_status=status,
        customer=CustomerSnapshot(
            platform_id=customer_id,
            email=p.text(billing.get("email")),
            first_name=p.text(billing.get("first_name")),
            last_name=p.text(billing.get("last_name")),
            phone=p.text(billing.get("phone"), 32),
            locale=locale,
            # A guest's details are as fresh as the order that carried them; an
            # account's are refreshed by customer.updated, so don't date them.
            updated_at=modified if customer_id is None else None,
            phone_country=p.text(billing.get("country"), 2),
            country=country_code(billing.get("country")),
            **woo_opt_ins(data.get("meta_data")),  # the store's checkout opt-in fields (connectors/consent.py)
        ),
        locale=locale,
        paid_at=paid_at,
        cancelled_at=modified if status == "cancelled" else None,
        fulfillments=_completion(order_id, _gmt(data, "date_completed"), modified, shipment_facts(data, status)),
        discount_codes=tuple(
            str(c["code"]) for c in p.objects(data.get("coupon_lines"), "coupon_lines") if c.get("code")
        ),
        line_items=line_items,
        refunds=tuple(
            RefundSnapshot(
                platform_id=p.platform_id(r.get("id"), "refunds.id"),
                order_id=order_id,
                amount=abs(p.money(r.get("total"), "refunds.total")),
                currency=currency.upper(),
                created_at=None,
            )
            for r in p.objects(data.get("refunds"), "refunds")
        ),
        # https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties: shipping {address_1,
        # address_2, city, postcode, country, phone}, billing.phone, meta_data [{key, value}].
        shipping_address=p.shipping_address(
            shipping, address1="address_1", address2="address_2", zip_key="postcode", country="country"
        ),
        phone=p.text(billing.get("phone") or shipping.get("phone"), 32),
        payment_fingerprint=_payment_fingerprint(data),
        referral_token=p.name_value(data.get("meta_data"), p.REFERRAL_TOKEN_KEY, name="key"),
    )


#: Gateways that keep a reusable payment source id in the order's meta (WooCommerce Stripe Gateway); the same
#: source on two orders is the same card or account. Our own storefront plugin may set `_ppe_payment_fingerprint`.
_PAYMENT_META_KEYS = ("_ppe_payment_fingerprint", "_stripe_source_id", "_payment_method_token")


def _payment_fingerprint(data: JSONObject) -> str | None:
    for key in _PAYMENT_META_KEYS:
        value = p.name_value(data.get("meta_data"), key, name="key")
        if value:
            return p.fingerprint(key, value)
    return None
