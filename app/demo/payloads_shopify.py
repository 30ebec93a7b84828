"""Shopify webhooks for the demo store, shaped like the documented examples (tests/fixtures/shopify).

An order's story is played forward and each step emits what Shopify sends at
that moment: the whole order as it then is (refunds and fulfilments embedded,
`updated_at` moving on) and the refund, fulfilment or carrier event on its own
topic. Ids are 64-bit-sized integers derived from order and person numbers; money
is a string, times carry the shop's offset. Payload literals keep the documented
examples' compact look (`# fmt: skip`) rather than one key per line.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from app.demo import Emit, OrderPlan, Person, Step, dumps, money, q

CURRENCY = "USD"
SUPPORTS_DELETE = False  # the connector has no orders/delete topic
SHOP_TZ = timezone(timedelta(hours=-5))  # Shopify stamps in the shop's zone; fixed so output never varies
CITIES = ("Springfield", "Riverside", "Fairview", "Franklin", "Greenville", "Madison")
TAX_RATES = (Decimal("0.0625"), Decimal("0.0725"), Decimal("0"), Decimal("0.07"), Decimal("0.06"), Decimal("0.055"))
FREE_SHIPPING_FROM, SHIPPING, DISCOUNT = Decimal("75.00"), Decimal("7.95"), Decimal("0.10")
ORDER_BASE, CUSTOMER_BASE, LINE_BASE = 5_000_000_000_000, 7_100_000_000_000, 13_900_000_000_000
REFUND_BASE, TX_BASE, FULFILLMENT_BASE, EVENT_BASE = 910_000_000_000, 6_200_000_000_000, 4_800_000_000_000, 27_000_000
# Fields the documented order example carries that nothing here varies.
_ORDER_NULLS = (
    "browser_ip client_details closed_at current_total_additional_fees_set current_total_duties_set device_id "
    "landing_site_ref location_id merchant_of_record_app_id note original_total_additional_fees_set payment_terms "
    "original_total_duties_set phone po_number reference referring_site source_identifier source_url user_id"
).split()
_NO_CARRIER = dict.fromkeys("address1 city latitude longitude province zip estimated_delivery_at".split())


def ts(when: datetime) -> str:
    return when.astimezone(SHOP_TZ).isoformat(timespec="seconds")


def price(plan: OrderPlan) -> Decimal:
    """Shopify's arithmetic: subtotal after discounts, tax on the subtotal, shipping untaxed."""
    plan.discount = q(plan.items_total * DISCOUNT) if plan.discount_code else Decimal("0")
    subtotal = plan.items_total - plan.discount
    plan.shipping = Decimal("0") if subtotal >= FREE_SHIPPING_FROM else SHIPPING
    plan.tax = q(subtotal * TAX_RATES[plan.person.index % len(TAX_RATES)])
    return subtotal + plan.shipping + plan.tax


def _set(amount: Decimal | int) -> dict[str, Any]:
    value = {"amount": money(amount), "currency_code": CURRENCY}
    return {"presentment_money": value, "shop_money": dict(value)}


def _address(person: Person, when: datetime) -> dict[str, Any]:
    first, last = person.name_at(when)
    street, phone = f"{100 + person.index % 800} Market Street", f"555-01{person.index % 100:02d}"
    city = CITIES[person.index % len(CITIES)]
    return {"address1": street, "address2": None, "city": city, "company": None, "country": "United States",
            "country_code": "US", "first_name": first, "last_name": last, "latitude": None, "longitude": None,
            "name": f"{first} {last}", "phone": phone, "province": "Oregon", "province_code": "OR",
            "zip": "97035"}  # fmt: skip


def customer_payload(person: Person, when: datetime) -> dict[str, Any]:
    """The account as Shopify holds it at `when`; its updated_at is its own latest change."""
    cid = person.account_id
    assert cid is not None, "a customer payload is an account holder's"  # callers check account_id / plan.guest
    first, last = person.name_at(when)
    address = {key: value for key, value in _address(person, when).items() if key not in ("latitude", "longitude")}
    address.update(country_name="United States", customer_id=cid, default=True, id=cid + 50_000_000)
    return {"addresses": [address], "admin_graphql_api_id": f"gid://shopify/Customer/{cid}",
            "created_at": ts(person.signup_at or when), "currency": CURRENCY, "default_address": address,
            "email": person.key, "first_name": first, "id": cid, "last_name": last, "multipass_identifier": None,
            "note": None, "phone": None, "state": "enabled", "tax_exempt": False, "tax_exemptions": [],
            "updated_at": ts(person.changed_at(when) or when), "verified_email": True}  # fmt: skip


def customer_emits(person: Person, shop: str) -> list[Emit]:
    """customers/create at sign-up and customers/update at a rename (`shop` is unused: the payload names none)."""
    if person.account_id is None or person.signup_at is None:
        return []
    emits = [Emit(person.signup_at, "customers/create", dumps(customer_payload(person, person.signup_at)))]
    if person.renamed_at is not None:
        emits.append(Emit(person.renamed_at, "customers/update", dumps(customer_payload(person, person.renamed_at))))
    return emits


def _lines(plan: OrderPlan, *, in_order: bool = True) -> list[dict[str, Any]]:
    """Line items with the order discount spread over them, the rounding remainder on the last.

    Fulfilments and refunds quote lines without the order-only fields (in_order=False).
    """
    lines, left = [], plan.discount
    for position, item in enumerate(plan.items):
        share = left if position == len(plan.items) - 1 else q(plan.discount * item.line_total / plan.items_total)
        left -= share
        line_id = LINE_BASE + plan.number * 10 + position
        allocation = {"amount": money(share), "amount_set": _set(share), "discount_application_index": 0}
        lines.append({
            "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}", "attributed_staffs": [],
            "current_quantity": item.quantity, "discount_allocations": [allocation] if share else [], "duties": [],
            "fulfillable_quantity": item.quantity, "fulfillment_service": "manual", "fulfillment_status": None,
            "gift_card": False, "grams": 250 * item.quantity, "id": line_id, "name": item.title,
            "price": money(item.price), "price_set": _set(item.price), "product_exists": True,
            "product_id": 7_400_000_000 + item.index, "properties": [], "quantity": item.quantity,
            "requires_shipping": True, "sales_line_item_group_id": None, "sku": f"DG-{item.index:03d}",
            "tax_lines": [], "taxable": True, "title": item.title, "total_discount": "0.00",
            "total_discount_set": _set(0), "variant_id": 44_100_000_000_000 + item.index,
            "variant_inventory_management": "shopify", "variant_title": None, "vendor": "Demo Goods",
        })  # fmt: skip
        if not in_order:
            for key in ("attributed_staffs", "current_quantity", "sales_line_item_group_id"):
                del lines[-1][key]
    return lines


class _Order:
    """The order as Shopify holds it while its story plays forward; `emits` collects the webhooks."""

    def __init__(self, plan: OrderPlan, shop: str) -> None:
        self.plan, self.shop = plan, shop
        self.updated_at = plan.placed_at
        self.financial_status = "pending"
        self.cancelled_at: datetime | None = None
        self.fulfillments: list[dict[str, Any]] = []
        self.refunds: list[dict[str, Any]] = []
        self.emits: list[Emit] = []

    def order(self, when: datetime, *topics: str) -> None:
        self.updated_at = when
        body = dumps(self.payload())
        self.emits.extend(Emit(when, topic, body) for topic in topics)

    def apply(self, step: Step) -> None:
        plan, when = self.plan, step.when
        if step.kind == "placed":
            # A card checkout is captured before orders/create goes out; a bank deposit is not.
            self.financial_status = "paid" if plan.payment == "card" else "pending"
            self.order(when, "orders/create")
        elif step.kind == "paid":
            self.financial_status = "paid"
            self.order(when, "orders/paid", "orders/updated")
        elif step.kind in ("refund", "cancelled") and step.amount:
            self.refunds.append(self.refund(step))
            self.emits.append(Emit(when, "refunds/create", dumps(self.refunds[-1])))
            fully = plan.refunded_by(when) >= plan.total
            self.financial_status = "refunded" if fully else "partially_refunded"
        if step.kind == "cancelled":
            self.cancelled_at = when
            self.financial_status = self.financial_status if step.amount else "voided"
            self.order(when, "orders/cancelled", "orders/updated")
        elif step.kind == "refund":
            self.order(when, "orders/updated")
        elif step.kind == "fulfilled":
            self.fulfillments.append(self.fulfillment(when))
            self.emits.append(Emit(when, "fulfillments/create", dumps(self.fulfillment_resource())))
            self.order(when, "orders/updated")
        elif step.kind in ("in_transit", "delivered") and self.fulfillments:
            fulfillment = self.fulfillments[-1]
            fulfillment.update(shipment_status=step.kind, updated_at=ts(when))
            event_id = EVENT_BASE + plan.number * 100 + len(self.emits)
            message = "Delivered" if step.kind == "delivered" else "Item is now in transit"
            event = {**_NO_CARRIER, "admin_graphql_api_id": f"gid://shopify/FulfillmentEvent/{event_id}",
                     "country": "US", "created_at": ts(when), "fulfillment_id": fulfillment["id"],
                     "happened_at": ts(when), "id": event_id, "message": message, "order_id": plan.order_id,
                     "shop_id": 548380009, "status": step.kind, "updated_at": ts(when)}  # fmt: skip
            self.emits.append(Emit(when, "fulfillment_events/create", dumps(event)))
            self.emits.append(Emit(when, "fulfillments/update", dumps(self.fulfillment_resource())))

    def refund(self, step: Step) -> dict[str, Any]:
        plan, number = self.plan, len(self.refunds)
        refund_id, tx_id = REFUND_BASE + plan.number * 10 + number, TX_BASE + plan.number * 10 + number
        lines = _lines(plan, in_order=False)
        lines = lines if step.kind == "cancelled" else lines[:1]
        # A cancellation refunds every unit; a partial refund one unit of the first line.
        quantities = [line["quantity"] if step.kind == "cancelled" else 1 for line in lines]
        refund_lines = [{"id": line["id"] + 1, "line_item": line, "line_item_id": line["id"], "location_id": None,
                         "quantity": n, "restock_type": "cancel" if step.kind == "cancelled" else "return",
                         "subtotal": float(line["price"]) * n, "subtotal_set": _set(Decimal(line["price"]) * n),
                         "total_tax": 0, "total_tax_set": _set(0)}
                        for line, n in zip(lines, quantities, strict=True)]  # fmt: skip
        unsettled = {side: {"amount": "0.00", "currency": CURRENCY} for side in ("presentment_money", "shop_money")}
        transaction = {"admin_graphql_api_id": f"gid://shopify/OrderTransaction/{tx_id}",
                       "amount": money(step.amount), "amount_rounding": None, "authorization": None,
                       "created_at": ts(step.when), "currency": CURRENCY, "device_id": None,
                       "error_code": None, "gateway": self.gateway, "id": tx_id, "kind": "refund", "location_id": None,
                       "manual_payment_gateway": plan.payment != "card", "message": "Refunded",
                       "order_id": plan.order_id, "parent_id": TX_BASE + plan.number * 10 + 9,
                       "payment_id": f"r{tx_id}", "processed_at": ts(step.when), "receipt": {}, "source_name": "web",
                       "status": "success", "test": False, "total_unsettled_set": unsettled,
                       "user_id": None}  # fmt: skip
        return {"admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}", "created_at": ts(step.when),
                "duties": [], "id": refund_id, "note": None, "order_adjustments": [], "order_id": plan.order_id,
                "processed_at": ts(step.when), "refund_line_items": refund_lines, "refund_shipping_lines": [],
                "restock": step.kind == "cancelled", "return": None, "total_duties_set": _set(0),
                "transactions": [transaction], "user_id": None}  # fmt: skip

    def fulfillment(self, when: datetime) -> dict[str, Any]:
        plan = self.plan
        fulfillment_id, tracking = FULFILLMENT_BASE + plan.number, f"1Z999AA1{plan.order_id % 10**10:010d}"
        url = f"https://www.ups.com/track?tracknum={tracking}"
        return {"admin_graphql_api_id": f"gid://shopify/Fulfillment/{fulfillment_id}", "created_at": ts(when),
                "id": fulfillment_id, "line_items": _lines(plan, in_order=False), "location_id": 6_884_556_842,
                "name": f"#{1000 + plan.number}.1", "order_id": plan.order_id, "origin_address": None, "receipt": {},
                "service": "manual", "shipment_status": None, "status": "success", "tracking_company": "UPS",
                "tracking_number": tracking, "tracking_numbers": [tracking],
                "tracking_url": url, "tracking_urls": [url], "updated_at": ts(when)}  # fmt: skip

    def fulfillment_resource(self) -> dict[str, Any]:
        """The fulfilment as its own webhooks send it: with the destination address and the order's email."""
        destination = _address(self.plan.person, self.plan.placed_at)
        return {**self.fulfillments[-1], "destination": destination, "email": self.plan.person.email}

    @property
    def gateway(self) -> str:
        return "shopify_payments" if self.plan.payment == "card" else "Bank Deposit"

    def payload(self) -> dict[str, Any]:
        plan, person, cancelled = self.plan, self.plan.person, self.cancelled_at is not None
        subtotal = plan.items_total - plan.discount
        refunded = plan.refunded_by(self.updated_at)
        current_subtotal = Decimal(0) if cancelled else max(Decimal(0), subtotal - refunded)
        current_total = Decimal(0) if cancelled else plan.total - refunded
        outstanding = plan.total if self.financial_status == "pending" else Decimal(0)
        token = uuid.UUID(int=plan.order_id).hex
        code = plan.discount_code
        discount_application = {"allocation_method": "across", "code": code, "target_selection": "all",
                                "target_type": "line_item", "type": "discount_code", "value": "10.0",
                                "value_type": "percentage"}  # fmt: skip
        shipping_line = {"code": "Standard", "discount_allocations": [], "discounted_price": money(plan.shipping),
                         "discounted_price_set": _set(plan.shipping), "id": 271_878_000_000 + plan.number,
                         "price": money(plan.shipping), "price_set": _set(plan.shipping), "source": "shopify",
                         "tax_lines": [], "title": "Standard", "carrier_identifier": None, "is_removed": False,
                         "current_discounted_price_set": _set(plan.shipping), "phone": None,
                         "requested_fulfillment_service_id": None}  # fmt: skip
        rate = float(TAX_RATES[person.index % len(TAX_RATES)])
        body: dict[str, Any] = {
            **dict.fromkeys(_ORDER_NULLS), "admin_graphql_api_id": f"gid://shopify/Order/{plan.order_id}",
            "app_id": 580111, "billing_address": _address(person, plan.placed_at),
            "buyer_accepts_marketing": person.index % 3 == 0,
            "cancel_reason": "customer" if cancelled else None,
            "cancelled_at": ts(self.cancelled_at) if self.cancelled_at else None, "cart_token": token,
            "checkout_id": 3_300_000_000_000 + plan.number, "checkout_token": token[::-1],
            "confirmation_number": f"C{plan.order_id % 10**8:08d}", "confirmed": True,
            "contact_email": person.email, "created_at": ts(plan.placed_at), "currency": CURRENCY,
            "current_shipping_price_set": _set(0 if cancelled else plan.shipping),
            "current_subtotal_price": money(current_subtotal), "current_subtotal_price_set": _set(current_subtotal),
            "current_total_discounts": money(plan.discount), "current_total_discounts_set": _set(plan.discount),
            "current_total_price": money(current_total), "current_total_price_set": _set(current_total),
            "current_total_tax": money(0 if cancelled else plan.tax),
            "current_total_tax_set": _set(0 if cancelled else plan.tax), "customer_locale": "en-US",
            "discount_applications": [discount_application] if code else [],
            "discount_codes": [{"amount": money(plan.discount), "code": code, "type": "percentage"}] if code else [],
            "duties_included": False, "email": person.email, "estimated_taxes": False,
            "financial_status": self.financial_status,
            "fulfillment_status": "fulfilled" if self.fulfillments else None,
            "fulfillments": self.fulfillments, "id": plan.order_id, "landing_site": "/",
            "line_items": _lines(plan), "merchant_business_entity_id": "MTU0ODM4MDAwOQ",
            "name": f"#{1000 + plan.number}", "note_attributes": [], "number": plan.number,
            "order_number": 1000 + plan.number,
            "order_status_url": f"https://{self.shop}/548380009/orders/{token}/authenticate?key={token[:12]}",
            "payment_gateway_names": [self.gateway], "presentment_currency": CURRENCY,
            "processed_at": ts(plan.placed_at), "refunds": self.refunds, "returns": [],
            "shipping_address": _address(person, plan.placed_at), "shipping_lines": [shipping_line],
            "source_name": "web", "subtotal_price": money(subtotal), "subtotal_price_set": _set(subtotal),
            "tags": "", "tax_exempt": False, "taxes_included": False, "test": False, "token": token,
            "tax_lines": [{"channel_liable": False, "price": money(plan.tax), "price_set": _set(plan.tax),
                           "rate": rate, "title": "State Tax"}] if plan.tax else [],
            "total_cash_rounding_payment_adjustment_set": _set(0), "total_cash_rounding_refund_adjustment_set": _set(0),
            "total_discounts": money(plan.discount), "total_discounts_set": _set(plan.discount),
            "total_line_items_price": money(plan.items_total), "total_line_items_price_set": _set(plan.items_total),
            "total_outstanding": money(outstanding), "total_price": money(plan.total),
            "total_price_set": _set(plan.total), "total_shipping_price_set": _set(plan.shipping),
            "total_tax": money(plan.tax), "total_tax_set": _set(plan.tax), "total_tip_received": "0.00",
            "total_weight": sum(250 * i.quantity for i in plan.items), "updated_at": ts(self.updated_at),
        }  # fmt: skip
        if not plan.guest:
            # Checked out while signed in; a guest checkout's payload has no customer object.
            body["customer"] = customer_payload(person, self.updated_at)
            del body["customer"]["addresses"]  # the order's copy of the customer omits them
        return body


def order_emits(plan: OrderPlan, shop: str) -> list[Emit]:
    order = _Order(plan, shop)
    for step in plan.story:
        order.apply(step)
    return order.emits


def headers(rng: random.Random, topic: str, when: datetime, shop: str) -> dict[str, str]:
    """Shopify's delivery headers, minus the signature. Event and webhook ids are unique per delivery."""
    triggered = (when + timedelta(milliseconds=rng.randint(50, 900))).astimezone(UTC)
    event_id, webhook_id = (str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(2))
    return {"Content-Type": "application/json", "User-Agent": "Shopify-Captain-Hook",
            "X-Shopify-API-Version": "2025-01", "X-Shopify-Event-Id": event_id, "X-Shopify-Shop-Domain": shop,
            "X-Shopify-Topic": topic, "X-Shopify-Triggered-At": triggered.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "X-Shopify-Webhook-Id": webhook_id}  # fmt: skip
