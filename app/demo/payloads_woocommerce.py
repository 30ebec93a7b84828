"""WooCommerce webhooks for the demo store, shaped like the REST v3 examples (tests/fixtures/woocommerce).

WooCommerce sends the whole order (the REST representation) on order.created
and on every order.updated, so each step of an order's story becomes one
snapshot: status pending/on-hold -> processing -> completed, or cancelled, or
refunded, with date_paid/date_completed/date_modified moving on and refunds
listed newest first with negative totals. Shipping progress has no webhook in
core WooCommerce, so carrier steps emit nothing. Ids are small integers, as
WordPress post and user ids are; *_gmt times carry no offset and are UTC.
Payload literals keep the documented examples' compact look (`# fmt: skip`).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from app.demo import Emit, OrderPlan, Person, Step, dumps, money, q

CURRENCY = "EUR"
SUPPORTS_DELETE = True  # trashing an order sends order.deleted with just its id
SITE_TZ = timezone(timedelta(hours=1))  # the site's local time, for the non-GMT date fields
CITIES = ("Berlin", "Hamburg", "Leipzig", "Bremen", "Dresden", "Kassel")
VAT, DISCOUNT = Decimal("0.19"), Decimal("0.10")
FREE_SHIPPING_FROM, SHIPPING = Decimal("60.00"), Decimal("4.90")
ORDER_BASE, CUSTOMER_BASE, REFUND_BASE, LINE_BASE = 1200, 2, 90_000, 300
# One webhook per topic, as a merchant sets them up; X-WC-Webhook-ID names it.
WEBHOOK_IDS = {"order.created": 11, "order.updated": 12, "order.deleted": 13, "customer.created": 14,
               "customer.updated": 15}  # fmt: skip


def local(when: datetime | None) -> str | None:
    return when.astimezone(SITE_TZ).strftime("%Y-%m-%dT%H:%M:%S") if when else None


def gmt(when: datetime | None) -> str | None:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") if when else None


def _amounts(plan: OrderPlan) -> list[tuple[Decimal, Decimal, Decimal, Decimal]]:
    """Per line: subtotal, total after the coupon, and the tax on each, rounded per line as WooCommerce does."""
    rows = []
    for item in plan.items:
        subtotal = item.line_total
        total = subtotal - (q(subtotal * DISCOUNT) if plan.discount_code else Decimal("0"))
        rows.append((subtotal, total, q(subtotal * VAT), q(total * VAT)))
    return rows


def price(plan: OrderPlan) -> Decimal:
    rows = _amounts(plan)
    goods = sum((r[1] for r in rows), Decimal("0"))
    plan.discount = sum((r[0] - r[1] for r in rows), Decimal("0"))
    plan.shipping = Decimal("0") if goods >= FREE_SHIPPING_FROM else SHIPPING
    plan.tax = sum((r[3] for r in rows), Decimal("0")) + q(plan.shipping * VAT)
    return goods + plan.shipping + plan.tax


def _billing(person: Person, when: datetime, email: str | None) -> dict[str, Any]:
    first, last = person.name_at(when)
    street = f"Hauptstrasse {person.index % 90 + 1}"
    address = {"first_name": first, "last_name": last, "company": "", "address_1": street, "address_2": "",
               "city": CITIES[person.index % len(CITIES)], "state": "", "postcode": "10115",
               "country": "DE"}  # fmt: skip
    return {**address, "email": email, "phone": f"555-01{person.index % 100:02d}"} if email is not None else address


def _links(site: str, kind: str, resource_id: int) -> dict[str, Any]:
    base = f"{site.rstrip('/')}/wp-json/wc/v3/{kind}"
    return {"self": [{"href": f"{base}/{resource_id}"}], "collection": [{"href": base}]}


def customer_payload(person: Person, when: datetime, site: str) -> dict[str, Any]:
    cid = person.account_id
    assert cid is not None, "a customer payload is an account holder's"  # callers check account_id
    first, last = person.name_at(when)
    created, modified = person.signup_at or when, person.changed_at(when) or when
    return {"id": cid, "date_created": local(created), "date_created_gmt": gmt(created),
            "date_modified": local(modified), "date_modified_gmt": gmt(modified), "email": person.key,
            "first_name": first, "last_name": last, "role": "customer", "username": person.key.split("@")[0],
            "billing": _billing(person, when, person.key), "shipping": _billing(person, when, None),
            "is_paying_customer": False, "avatar_url": "https://secure.gravatar.com/avatar/?s=96&d=mm",
            "meta_data": [], "_links": _links(site, "customers", cid)}  # fmt: skip


def customer_emits(person: Person, site: str) -> list[Emit]:
    if person.account_id is None or person.signup_at is None:
        return []
    emits = [Emit(person.signup_at, "customer.created", dumps(customer_payload(person, person.signup_at, site)))]
    if person.renamed_at is not None:
        renamed = customer_payload(person, person.renamed_at, site)
        emits.append(Emit(person.renamed_at, "customer.updated", dumps(renamed)))
    return emits


def _line_items(plan: OrderPlan) -> list[dict[str, Any]]:
    lines = []
    for position, (item, (subtotal, total, subtotal_tax, total_tax)) in enumerate(
        zip(plan.items, _amounts(plan), strict=True)
    ):
        lines.append({"id": LINE_BASE + plan.number * 10 + position, "name": item.title, "product_id": 20 + item.index,
                      "variation_id": 0, "quantity": item.quantity, "tax_class": "", "subtotal": money(subtotal),
                      "subtotal_tax": money(subtotal_tax), "total": money(total), "total_tax": money(total_tax),
                      "taxes": [{"id": 1, "total": money(total_tax), "subtotal": money(subtotal_tax)}],
                      "meta_data": [], "sku": f"DG-{item.index:03d}",
                      "price": float(total / item.quantity)})  # fmt: skip
    return lines


class _Order:
    """The order as the store holds it while its story plays forward; `emits` collects the webhooks."""

    def __init__(self, plan: OrderPlan, site: str) -> None:
        self.plan, self.site = plan, site
        self.status = "pending"
        self.modified = plan.placed_at
        self.paid_at: datetime | None = None
        self.completed_at: datetime | None = None
        self.refunds: list[dict[str, Any]] = []
        self.emits: list[Emit] = []

    def apply(self, step: Step) -> None:
        plan, when = self.plan, step.when
        if step.kind == "deleted":
            self.emits.append(Emit(when, "order.deleted", dumps({"id": plan.order_id})))
            return
        if step.kind not in ("placed", "paid", "cancelled", "fulfilled", "refund"):
            return  # carrier progress: core WooCommerce has no webhook for it
        if step.amount:
            refund_id = REFUND_BASE + plan.number * 4 + len(self.refunds)
            self.refunds.insert(0, {"id": refund_id, "reason": "", "total": money(-step.amount)})
        if step.kind == "placed":
            # Card payments start pending until the gateway confirms; bank transfers wait on-hold.
            self.status = "pending" if plan.payment == "card" else "on-hold"
        elif step.kind == "paid":
            self.status, self.paid_at = "processing", when
        elif step.kind == "fulfilled":
            self.status, self.completed_at = "completed", when
        elif step.kind == "cancelled" or plan.refunded_by(when) >= plan.total:
            self.status = step.kind if step.kind == "cancelled" else "refunded"
        self.modified = when
        self.emits.append(
            Emit(when, "order.created" if step.kind == "placed" else "order.updated", dumps(self.payload()))
        )

    def payload(self) -> dict[str, Any]:
        plan, person = self.plan, self.plan.person
        rows = _amounts(plan)
        shipping_tax = q(plan.shipping * VAT)
        email = person.email if plan.guest else person.key
        coupons: list[dict[str, Any]] = [
            {"id": 500 + plan.number, "code": plan.discount_code, "discount": money(plan.discount),
             "discount_tax": money(sum((r[2] - r[3] for r in rows), Decimal(0))), "meta_data": []}]  # fmt: skip
        card = plan.payment == "card"
        return {
            "id": plan.order_id, "parent_id": 0, "number": str(plan.order_id),
            "order_key": f"wc_order_{plan.order_id:013x}", "created_via": "checkout", "version": "9.4.2",
            "status": self.status, "currency": CURRENCY,
            "date_created": local(plan.placed_at), "date_created_gmt": gmt(plan.placed_at),
            "date_modified": local(self.modified), "date_modified_gmt": gmt(self.modified),
            "discount_total": money(plan.discount), "discount_tax": coupons[0]["discount_tax"],
            "shipping_total": money(plan.shipping), "shipping_tax": money(shipping_tax),
            "cart_tax": money(plan.tax - shipping_tax), "total": money(plan.total), "total_tax": money(plan.tax),
            "prices_include_tax": False, "customer_id": 0 if plan.guest else person.account_id,
            "customer_ip_address": f"203.0.113.{plan.number % 250}", "customer_user_agent": "Mozilla/5.0",
            "customer_note": "", "billing": _billing(person, plan.placed_at, email),
            "shipping": _billing(person, plan.placed_at, None), "payment_method": "stripe" if card else "bacs",
            "payment_method_title": "Credit Card (Stripe)" if card else "Direct Bank Transfer",
            "transaction_id": f"pi_{plan.order_id:024d}" if card and self.paid_at else "",
            "date_paid": local(self.paid_at), "date_paid_gmt": gmt(self.paid_at),
            "date_completed": local(self.completed_at), "date_completed_gmt": gmt(self.completed_at),
            "cart_hash": f"{plan.order_id:032x}",
            "meta_data": [{"id": 9000 + plan.number, "key": "is_vat_exempt", "value": "no"}],
            "line_items": _line_items(plan),
            "tax_lines": [{"id": 700 + plan.number, "rate_code": "DE-MWST-1", "rate_id": 1, "label": "MwSt.",
                           "compound": False, "tax_total": money(plan.tax - shipping_tax),
                           "shipping_tax_total": money(shipping_tax), "meta_data": []}],
            "shipping_lines": [{"id": 800 + plan.number, "method_title": "DHL Paket", "method_id": "flat_rate",
                                "total": money(plan.shipping), "total_tax": money(shipping_tax), "taxes": [],
                                "meta_data": []}],
            "fee_lines": [], "coupon_lines": coupons if plan.discount_code else [], "refunds": list(self.refunds),
            "_links": _links(self.site, "orders", plan.order_id),
        }  # fmt: skip


def order_emits(plan: OrderPlan, site: str) -> list[Emit]:
    order = _Order(plan, site)
    for step in plan.story:
        order.apply(step)
    return order.emits


def headers(rng: random.Random, topic: str, when: datetime, site: str) -> dict[str, str]:
    """WooCommerce's delivery headers, minus the signature. The source is home_url('/'), hence the slash."""
    resource, event = topic.split(".")
    return {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)",
        "X-WC-Webhook-Source": site.rstrip("/") + "/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-ID": str(WEBHOOK_IDS[topic]),
        "X-WC-Webhook-Delivery-ID": f"{rng.getrandbits(128):032x}",
    }
