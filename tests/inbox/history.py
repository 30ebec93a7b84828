"""Builders for the history import tests: one store's past, as Shopify's bulk file holds it (Admin GraphQL
objects), as Shopify's webhooks carry it (REST JSON) and as WooCommerce's REST API lists it.

Every order is paid; every 4th is refunded in part; every order is fulfilled and delivered (so a review request
would be due for it, were it not past); `when` places it (past: before the store's install).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.loyalty.models import PointsLedger
from app.messaging.models import Message
from app.records.models import Customer, Order, OrderRefund
from app.reviews.models import ReviewRequest
from tests.helpers import fixture_json

PAST = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def gql_customer(n: int) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/Customer/{7000 + n}",
        "firstName": f"First{n}",
        "lastName": f"Last{n}",
        "locale": "en",
        "updatedAt": stamp(PAST),
        "defaultEmailAddress": {"emailAddress": f"c{n}@example.com", "marketingState": "SUBSCRIBED"},
        "defaultPhoneNumber": None,
        "tags": ["VIP", "wholesale"] if n % 2 else [],  # Customer.tags is [String!]! (never null)
        "defaultAddress": {"countryCodeV2": "PL"} if n % 2 else None,
    }


def _money(amount: str, currency: str = "EUR") -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": currency}}


def gql_order(n: int, customers: int, *, when: datetime = PAST, updated: datetime | None = None) -> dict[str, Any]:
    """Order n of customer n % customers, as a bulk query's Order object (line items: a plain list)."""
    placed = when + timedelta(minutes=n)
    total = f"{50 + n % 50}.00"
    refunds = []
    if n % 4 == 0:
        refunds = [
            {
                "id": f"gid://shopify/Refund/{900000 + n}",
                "createdAt": stamp(placed + timedelta(days=3)),
                "totalRefundedSet": _money("10.00"),
            }
        ]
    return {
        "id": f"gid://shopify/Order/{500000 + n}",
        "name": f"#{1000 + n}",
        "email": f"c{n % customers}@example.com",
        "phone": None,
        "createdAt": stamp(placed),
        "updatedAt": stamp(updated or placed + timedelta(days=5)),
        "cancelledAt": None,
        "currencyCode": "EUR",
        "customerLocale": "en",
        "displayFinancialStatus": "PARTIALLY_REFUNDED" if refunds else "PAID",
        "displayFulfillmentStatus": "FULFILLED",
        "discountCodes": [],
        "totalPriceSet": _money(total),
        "subtotalPriceSet": _money(total),
        # as ORDERS_QUERY asks for it: the customer's tags come with customers only (connectors/shopify_history.py)
        "customer": {k: v for k, v in gql_customer(n % customers).items() if k != "tags"},
        "shippingAddress": None,
        "billingAddress": None,
        "customAttributes": [],
        "refunds": refunds,
        "fulfillments": [
            {
                "id": f"gid://shopify/Fulfillment/{800000 + n}",
                "status": "SUCCESS",
                "displayStatus": "DELIVERED",
                "createdAt": stamp(placed + timedelta(days=1)),
                "updatedAt": stamp(placed + timedelta(days=2)),
            }
        ],
        "lineItems": [
            {
                "id": f"gid://shopify/LineItem/{600000 + n * 2 + k}",
                "title": f"Product {k}",
                "quantity": 1,
                "originalUnitPriceSet": _money("25.00"),
                "product": {"id": f"gid://shopify/Product/{40 + k}"},
                "variant": {"id": f"gid://shopify/ProductVariant/{400 + k}"},
            }
            for k in range(2)
        ],
    }


def rest_order(node: dict[str, Any]) -> dict[str, Any]:
    """The same order as Shopify's orders/updated webhook carries it (REST resource JSON)."""
    number = lambda gid: int(gid.rsplit("/", 1)[1])  # noqa: E731
    customer = node["customer"]
    return {
        "id": number(node["id"]),
        "name": node["name"],
        "email": node["email"],
        "currency": node["currencyCode"],
        "total_price": node["totalPriceSet"]["shopMoney"]["amount"],
        "subtotal_price": node["subtotalPriceSet"]["shopMoney"]["amount"],
        "created_at": node["createdAt"],
        "updated_at": node["updatedAt"],
        "cancelled_at": node["cancelledAt"],
        "financial_status": node["displayFinancialStatus"].lower(),
        "fulfillment_status": "fulfilled",
        "customer_locale": node["customerLocale"],
        "customer": {
            "id": number(customer["id"]),
            "email": customer["defaultEmailAddress"]["emailAddress"],
            "first_name": customer["firstName"],
            "last_name": customer["lastName"],
            "locale": customer["locale"],
            "updated_at": customer["updatedAt"],
            "email_marketing_consent": {"state": "subscribed"},
            "default_address": {"country_code": (customer["defaultAddress"] or {}).get("countryCodeV2")},
        },
        "discount_codes": [],
        "note_attributes": [],
        "refunds": [
            {
                "id": number(r["id"]),
                "order_id": number(node["id"]),
                "created_at": r["createdAt"],
                "transactions": [
                    {
                        "kind": "refund",
                        "status": "success",
                        "amount": r["totalRefundedSet"]["shopMoney"]["amount"],
                        "currency": node["currencyCode"],
                    }
                ],
            }
            for r in node["refunds"]
        ],
        "fulfillments": [
            {
                "id": number(f["id"]),
                "order_id": number(node["id"]),
                "status": "success",
                "shipment_status": "delivered",
                "created_at": f["createdAt"],
                "updated_at": f["updatedAt"],
            }
            for f in node["fulfillments"]
        ],
        "line_items": [
            {
                "id": number(li["id"]),
                "title": li["title"],
                "quantity": li["quantity"],
                "price": li["originalUnitPriceSet"]["shopMoney"]["amount"],
                "product_id": number(li["product"]["id"]),
                "variant_id": number(li["variant"]["id"]),
            }
            for li in node["lineItems"]
        ],
    }


@cache
def _woo_fixture(name: str) -> dict[str, Any]:
    """The WooCommerce sample parsed once: the bench's stand-in makes a million orders from it, and reading and
    parsing the file for each cost more than the rest of the page (2026-12-07: ~0.5 ms an order under load)."""
    return fixture_json("woocommerce", name)


def woo_customer(n: int) -> dict[str, Any]:
    """Customer n. Its nested parts (billing, shipping, meta_data) are the sample's own, shared: read-only."""
    body = _woo_fixture("customer")
    return {
        **body,
        "id": 7000 + n,
        "email": f"c{n}@example.com",
        "first_name": f"First{n}",
        "last_name": f"Last{n}",
        "role": "customer" if n % 10 else "subscriber",  # role=all must list these too
        "date_modified_gmt": stamp(PAST)[:-1],
        "date_created_gmt": stamp(PAST)[:-1],
    }


def woo_order(n: int, customers: int, *, when: datetime = PAST, modified: datetime | None = None) -> dict[str, Any]:
    """Order n. Its own dict and billing; the other nested parts (line items, shipping, meta_data) are the
    sample's, shared by every order: read-only (replace them, never change them in place)."""
    body = dict(_woo_fixture("order"))
    placed = when + timedelta(minutes=n)
    total = f"{50 + n % 50}.00"
    body.update(
        id=500000 + n,
        number=str(500000 + n),
        status="completed",
        total=total,
        customer_id=7000 + n % customers,
        date_created_gmt=stamp(placed)[:-1],
        date_modified_gmt=stamp(modified or placed + timedelta(days=5))[:-1],
        date_paid_gmt=stamp(placed)[:-1],
        date_completed_gmt=stamp(placed + timedelta(days=2))[:-1],
        refunds=[{"id": 900000 + n, "reason": "", "total": "-10.00"}] if n % 4 == 0 else [],
    )
    body["billing"] = {**body["billing"], "email": f"c{n % customers}@example.com"}
    return body


def expected(orders: int, customers: int) -> dict[str, Any]:
    """What importing orders 0..orders-1 of `customers` customers must record, worked out from n as the builders
    above make each order (no order held): the counts, and the sums of the orders' totals and refunded amounts."""
    whole, left = divmod(orders, 50)  # totals cycle through 50.00 .. 99.00
    total = whole * sum(range(50, 100)) + sum(50 + n for n in range(left))
    refunds = len(range(0, orders, 4))
    return {
        "customers": customers,
        "orders": orders,
        "refunds": refunds,
        "total_price": Decimal(total),
        "refunded_amount": Decimal(10 * refunds),
    }


def recorded(store_id: int) -> dict[str, Any]:
    """The store's records in the terms of `expected`."""
    found = counts(store_id)
    totals = db.session.execute(
        select(func.coalesce(func.sum(Order.total_price), 0), func.coalesce(func.sum(Order.refunded_amount), 0)).where(
            Order.store_id == store_id
        )
    ).one()
    return {
        "customers": found["customers"],
        "orders": found["orders"],
        "refunds": found["refunds"],
        "total_price": Decimal(totals[0]),
        "refunded_amount": Decimal(totals[1]),
    }


def count(model: Any, store_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(model.store_id == store_id)) or 0


def counts(store_id: int) -> dict[str, int]:
    db.session.expire_all()
    return {
        "customers": count(Customer, store_id),
        "orders": count(Order, store_id),
        "refunds": count(OrderRefund, store_id),
        # order rows only: an account seen earns its signup reward whatever the path (loyalty/orders.py)
        "ledger": db.session.scalar(
            select(func.count()).where(PointsLedger.store_id == store_id, PointsLedger.order_platform_id.is_not(None))
        )
        or 0,
        "review_requests": count(ReviewRequest, store_id),
        "messages": count(Message, store_id),
    }


def order_state(store_id: int) -> list[tuple]:
    """Every order as recorded: what the import and the webhooks must agree on."""
    db.session.expire_all()
    return [
        (
            o.platform_id,
            o.total_price,
            o.refunded_amount,
            o.financial_status,
            o.paid_at,
            o.fulfilled_at,
            o.delivered_at,
            o.cancelled_at,
            o.platform_updated_at,
            len(o.line_items),
            o.customer_id is not None,
        )
        for o in db.session.scalars(select(Order).where(Order.store_id == store_id).order_by(Order.platform_id))
    ]


def forget_records(store_id: int) -> None:
    """The store's orders, their child rows and its deliveries gone: ready to be told the same history again."""
    from app.inbox.models import WebhookDelivery
    from app.records.models import Fulfillment

    for model in (WebhookDelivery, OrderRefund, Fulfillment, Order):
        db.session.execute(model.__table__.delete().where(model.store_id == store_id))
    db.session.commit()


def crash_inside_the_second_chunk(monkeypatch: Any, store_id: int, module: Any, phase: str, done: int) -> None:
    """The worker dies inside the second chunk of `phase`, after its statements (and handlers) and before the
    commit: `module.apply_rest`, the chunk's last step, raises on its second call. The import is left running with
    the first chunk (`done` documents) committed, and the next run resumes it."""
    import pytest

    from app.inbox.history_import import run
    from app.records.history import history_import

    real, calls = module.apply_rest, []

    def dies(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "apply_rest", dies)
    with pytest.raises(KeyboardInterrupt):
        run(db.session, store_id)
    db.session.rollback()
    row = history_import(db.session, store_id)
    assert (row.status, getattr(row, f"{phase}_done"), row.cursor[phase]["done"]) == ("running", done, done)
    monkeypatch.setattr(module, "apply_rest", real)
