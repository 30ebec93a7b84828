"""Shared by the compliance tests (test_compliance.py, test_compliance_shop.py): signed compliance deliveries, a
populated store, running the requests, and searching every table for a customer's personal strings.
"""

from __future__ import annotations

import json

from sqlalchemy import LargeBinary, String, Text, select
from sqlalchemy.types import JSON

from app.compliance.models import ComplianceRequest
from app.compliance.tasks import run_compliance_request, sweep
from app.extensions import db
from app.records.models import Customer, Order
from tests.helpers import SHOP, dumps, fixture_json, shopify_headers, shopify_order

EMAIL, FIRST, LAST, PHONE = "Zed.Redact@Example.com", "Zebediah", "Quillfeather", "555-867-5309"


CUSTOMER_ID = 191167  # the customer of the documented compliance payloads


def send(client, topic: str, payload: dict, shop: str = SHOP, event_id: str | None = None) -> None:
    body = dumps(payload)
    response = client.post(
        "/webhooks/shopify", data=body, headers=shopify_headers(topic, body, shop=shop, event_id=event_id)
    )
    assert response.status_code == 200, response.data


def compliance_payload(name: str, **customer) -> dict:
    payload = fixture_json("shopify", name)
    payload["shop_domain"] = SHOP
    if "customer" in payload:
        payload["customer"] = {"id": CUSTOMER_ID, "email": EMAIL, "phone": PHONE, **customer}
    return payload


def populate(client, shop: str = SHOP) -> None:
    """Our customer (an account with two orders, a refund and a fulfilment) and a bystander."""
    account = fixture_json("shopify", "customers_create")
    account.update(id=CUSTOMER_ID, email=EMAIL, first_name=FIRST, last_name=LAST, phone=PHONE, default_address=None)
    send(client, "customers/create", account, shop)
    address = {"first_name": FIRST, "last_name": LAST, "name": f"{FIRST} {LAST}", "phone": PHONE, "zip": "40003"}
    for order_id, total in ((299938, "120.00"), (280263, "30.50")):
        order = shopify_order(order_id, email=EMAIL, customer_id=CUSTOMER_ID, total=total)
        order.update(billing_address=address, shipping_address=address, contact_email=EMAIL)
        order["customer"].update(first_name=FIRST, last_name=LAST, phone=PHONE)
        send(client, "orders/create", order, shop)
    refund = fixture_json("shopify", "refunds_create")
    refund.update(order_id=299938, id=9001)
    refund["transactions"] = [{"kind": "refund", "status": "success", "amount": "20.00", "currency": "USD"}]
    send(client, "refunds/create", refund, shop)
    fulfillment = fixture_json("shopify", "fulfillments_create")
    fulfillment.update(id=6001, order_id=280263, status="success", email=EMAIL, destination=address)
    fulfillment.update(created_at="2026-11-03T09:00:00Z", updated_at="2026-11-03T09:00:00Z")
    send(client, "fulfillments/create", fulfillment, shop)
    send(client, "orders/create", shopify_order(5001, email="bystander@example.com", customer_id=7001), shop)


def run_requests(app) -> list[str]:
    """What the scheduler and a worker do: adopt/enqueue, then the job for each request."""
    with app.app_context():
        sweep()
        rows = db.session.execute(
            select(ComplianceRequest.id, ComplianceRequest.store_id).order_by(ComplianceRequest.id)
        ).all()
        db.session.remove()
    return [run_compliance_request(request_id, store_id) for request_id, store_id in rows]


def personal_strings() -> list[str]:
    return [EMAIL.lower(), FIRST.lower(), LAST.lower(), PHONE]


def find_in_any_table(needles: list[str]) -> list[tuple[str, str, str]]:
    """Every (table, column, needle) where a text, JSON or binary column contains one of the needles."""
    hits = []
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            columns = [
                c
                for c in table.c
                if isinstance(c.type, String | Text | JSON | LargeBinary)
                or isinstance(getattr(c.type, "impl", None), String | Text | JSON | LargeBinary)
            ]
            if not columns:
                continue  # nothing that could hold personal data (e.g. loyalty_store_state)
            for row in conn.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    text = (
                        bytes(value).decode("utf-8", "replace")
                        if isinstance(value, bytes | memoryview)
                        else (value if isinstance(value, str) else json.dumps(value))
                    )
                    hits += [(table.name, column.name, n) for n in needles if n in text.lower()]
    return hits


def store_totals(store_id: int):
    orders = db.session.scalars(select(Order).where(Order.store_id == store_id)).all()
    customers = db.session.scalars(select(Customer).where(Customer.store_id == store_id)).all()
    return (
        len(orders),
        sum(o.total_price for o in orders),
        sum(o.refunded_amount for o in orders),
        sorted((c.id, c.orders_count, c.total_spent, c.total_refunded) for c in customers),
    )
