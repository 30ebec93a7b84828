"""From inbox to customer record: what the worker does with each delivery."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.inbox.models import WebhookDelivery
from app.records.models import Customer, Order
from app.stores.models import Store
from tests.helpers import (
    add_store,
    dumps,
    fixture_bytes,
    fixture_json,
    process_all,
    shopify_headers,
    shopify_order,
    woo_headers,
)


def send_shopify(client, topic: str, payload: dict, event_id: str | None = None):
    body = dumps(payload)
    response = client.post("/webhooks/shopify", data=body, headers=shopify_headers(topic, body, event_id=event_id))
    assert response.status_code == 200, response.data
    return response


def send_woo(client, topic: str, payload: dict):
    body = dumps(payload)
    response = client.post("/webhooks/woocommerce", data=body, headers=woo_headers(topic, body))
    assert response.status_code == 200, response.data
    return response


def customer_by_email(email: str) -> Customer:
    return db.session.scalar(select(Customer).where(Customer.email_key == email))


def test_order_creates_customer_with_totals(app, client, ctx):
    add_store("shopify")
    send_shopify(client, "orders/create", shopify_order(total="199.65"))
    assert process_all(app) == {"done": 1}
    customer = customer_by_email("ann@example.com")
    assert (customer.platform_id, customer.orders_count, customer.currency) == ("7001", 1, "USD")
    assert customer.total_spent == Decimal("199.65")
    order = db.session.scalar(select(Order))
    assert order.paid_at is not None and order.customer_id == customer.id


def test_five_identical_deliveries_have_one_effect(app, client, ctx):
    add_store("shopify")
    for _ in range(5):
        send_shopify(client, "orders/create", shopify_order(), event_id="same-event")
    process_all(app)
    # The same order under different event ids (orders/create then orders/paid) is still one order.
    send_shopify(client, "orders/paid", shopify_order(), event_id="other-event")
    process_all(app)
    customer = customer_by_email("ann@example.com")
    assert (customer.orders_count, customer.total_spent) == (1, Decimal("100.00"))
    assert len(db.session.scalars(select(WebhookDelivery)).all()) == 2


def test_stale_snapshot_does_not_overwrite_newer(app, client, ctx):
    add_store("shopify")
    send_shopify(client, "orders/updated", shopify_order(total="80.00", updated_at="2026-11-02T10:00:00-05:00"))
    send_shopify(client, "orders/create", shopify_order(total="100.00", updated_at="2026-11-01T10:00:00-05:00"))
    process_all(app)
    order = db.session.scalar(select(Order))
    assert order.total_price == Decimal("80.00")
    assert customer_by_email("ann@example.com").total_spent == Decimal("80.00")


def test_refunds_cancellation_and_out_of_order_refund(app, client, ctx):
    add_store("shopify")
    refund = fixture_json("shopify", "refunds_create")
    refund.update(order_id=5001, id=9001)
    refund["transactions"] = [{"kind": "refund", "status": "success", "amount": "30.00", "currency": "USD"}]
    send_shopify(client, "refunds/create", refund)  # before the order itself
    process_all(app)
    send_shopify(client, "orders/create", shopify_order(total="100.00"))
    process_all(app)
    customer = customer_by_email("ann@example.com")
    assert (customer.total_spent, customer.total_refunded) == (Decimal("70.00"), Decimal("30.00"))
    send_shopify(
        client,
        "orders/cancelled",
        shopify_order(
            updated_at="2026-11-03T10:00:00-05:00",
            cancelled_at="2026-11-03T10:00:00-05:00",
            financial_status="refunded",
        ),
    )
    process_all(app)
    db.session.expire_all()
    customer = customer_by_email("ann@example.com")
    order = db.session.scalar(select(Order))
    assert order.cancelled_at is not None and order.refunded_amount == Decimal("30.00")
    assert (customer.orders_count, customer.total_spent) == (1, Decimal("0"))


def test_fulfilment_and_delivery_dates(app, client, ctx):
    add_store("shopify")
    send_shopify(client, "orders/create", shopify_order())
    delivered = fixture_json("shopify", "fulfillment_events_create")
    delivered.update(order_id=5001, fulfillment_id=6001, id=1, status="delivered", happened_at="2026-11-05T12:00:00Z")
    send_shopify(client, "fulfillment_events/create", delivered)  # the carrier event first
    process_all(app)
    assert db.session.scalar(select(Order)).delivered_at is None  # the shipment itself is not known yet
    fulfillment = fixture_json("shopify", "fulfillments_create")
    fulfillment.update(
        id=6001, order_id=5001, status="success", created_at="2026-11-03T09:00:00Z", updated_at="2026-11-03T09:00:00Z"
    )
    send_shopify(client, "fulfillments/create", fulfillment)
    process_all(app)
    db.session.expire_all()
    order = db.session.scalar(select(Order))
    assert order.fulfilled_at.isoformat() == "2026-11-03T09:00:00+00:00"
    assert order.delivered_at.isoformat() == "2026-11-05T12:00:00+00:00"


def test_guest_is_keyed_by_email_then_merged_into_the_account(app, client, ctx):
    add_store("shopify")
    send_shopify(client, "orders/create", shopify_order(5001, email=" Guest@Example.com", customer_id=None))
    process_all(app)
    guest = customer_by_email("guest@example.com")
    assert guest.is_guest and guest.orders_count == 1
    account = fixture_json("shopify", "customers_create")
    account.update(id=7777, email="guest@example.com", first_name="Gia")
    send_shopify(client, "customers/create", account)
    send_shopify(client, "orders/create", shopify_order(5002, email="guest@example.com", customer_id=7777))
    process_all(app)
    db.session.expire_all()
    [customer] = db.session.scalars(select(Customer)).all()
    assert (customer.platform_id, customer.first_name, customer.orders_count) == ("7777", "Gia", 2)
    assert customer.total_spent == Decimal("200.00")


def test_account_record_absorbs_an_existing_guest_record(app, client, ctx):
    add_store("shopify")
    send_shopify(client, "orders/create", shopify_order(5001, email="mia@example.com", customer_id=None))
    send_shopify(client, "orders/create", shopify_order(5002, email="old@example.com", customer_id=8888))
    process_all(app)
    assert len(db.session.scalars(select(Customer)).all()) == 2
    account = fixture_json("shopify", "customers_update")
    account.update(id=8888, email="mia@example.com", updated_at="2026-11-04T00:00:00Z")
    send_shopify(client, "customers/update", account)
    process_all(app)
    db.session.expire_all()
    [customer] = db.session.scalars(select(Customer)).all()
    assert (customer.platform_id, customer.email_key, customer.orders_count) == ("8888", "mia@example.com", 2)


def test_woocommerce_guest_and_completed_order(app, client, ctx):
    add_store("woocommerce")
    order = fixture_json("woocommerce", "order")
    send_woo(client, "order.created", order)
    completed = {
        **order,
        "status": "completed",
        "date_modified_gmt": "2017-03-23T10:00:00",
        "date_completed_gmt": "2017-03-23T10:00:00",
    }
    send_woo(client, "order.updated", completed)
    process_all(app)
    guest = customer_by_email("john.doe@example.com")
    assert guest.is_guest and guest.orders_count == 1 and guest.total_spent == Decimal("29.35")
    stored = db.session.scalar(select(Order))
    assert stored.platform_status == "completed"
    assert stored.fulfilled_at.isoformat() == "2017-03-23T10:00:00+00:00"
    refunded = {
        **completed,
        "date_modified_gmt": "2017-03-24T10:00:00",
        "refunds": [{"id": 801, "reason": "", "total": "-9.35"}],
    }
    send_woo(client, "order.updated", refunded)
    process_all(app)
    db.session.expire_all()
    assert customer_by_email("john.doe@example.com").total_spent == Decimal("20.00")


def test_woocommerce_delete_and_restore(app, client, ctx):
    add_store("woocommerce")
    order = {**fixture_json("woocommerce", "order"), "customer_id": 25}
    send_woo(client, "order.created", order)
    send_woo(client, "order.deleted", {"id": 727})
    process_all(app)
    assert db.session.scalar(select(Customer)).orders_count == 0
    send_woo(client, "order.restored", {**order, "date_modified_gmt": "2017-03-30T10:00:00"})
    process_all(app)
    db.session.expire_all()
    assert db.session.scalar(select(Customer)).orders_count == 1


def test_app_uninstalled_marks_store(app, client, ctx):
    store = add_store("shopify")
    body = fixture_bytes("shopify", "app_uninstalled")
    client.post("/webhooks/shopify", data=body, headers=shopify_headers("app/uninstalled", body))
    process_all(app)
    db.session.expire_all()
    assert db.session.get(Store, store.id).status == "uninstalled"


def test_compliance_delivery_becomes_a_request_for_its_job(app, client, ctx):
    from app.compliance.models import ComplianceRequest

    add_store("shopify")
    body = fixture_bytes("shopify", "customers_redact")
    client.post("/webhooks/shopify", data=body, headers=shopify_headers("customers/redact", body))
    assert process_all(app) == {"done": 1}
    request = db.session.scalar(select(ComplianceRequest))
    assert (request.topic, request.status) == ("customers/redact", "pending")


def test_malformed_payload_is_parked_as_failed_not_retried(app, client, ctx):
    add_store("shopify")
    payload = shopify_order()
    payload["currency"] = None
    send_shopify(client, "orders/create", payload)
    assert process_all(app) == {"failed": 1}
    row = db.session.scalar(select(WebhookDelivery))
    assert row.status == "failed" and "currency" in row.last_error
    assert "ann@example.com" not in row.last_error  # errors never carry personal data
    assert json.loads(row.body)["id"] == 5001  # the raw delivery is kept for a replay after a fix


def test_deletion_that_arrives_before_the_order_is_not_lost(app, client, ctx):
    add_store("woocommerce")
    order = {**fixture_json("woocommerce", "order"), "customer_id": 25}
    send_woo(client, "order.deleted", {"id": 727})
    process_all(app)
    send_woo(client, "order.created", order)
    process_all(app)
    db.session.expire_all()
    assert db.session.scalar(select(Order)).deleted_at is not None
    assert db.session.scalar(select(Customer)).orders_count == 0


def test_display_email_of_an_account_outranks_the_guest_spelling(app, client, ctx):
    add_store("shopify")
    send_shopify(client, "orders/create", shopify_order(5001, email="Marta@Example.com", customer_id=None))
    process_all(app)
    account = fixture_json("shopify", "customers_create")
    account.update(id=8888, email="marta@example.com")
    send_shopify(client, "customers/create", account)
    process_all(app)
    db.session.expire_all()
    assert db.session.scalar(select(Customer)).email == "marta@example.com"
