"""Customer privacy requests: export a customer, erase them, keep them erased; retries and the inbox scrub.

Through the real path: the signed fixture payload is posted to the webhook
route, the inbox is drained, and the RQ job function runs in-process.
Shop-level requests and uninstall are in tests/compliance/test_compliance_shop.py.
"""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from app.compliance import data as compliance_data
from app.compliance import run as compliance_run
from app.compliance import service as compliance
from app.compliance.models import ComplianceRequest
from app.compliance.tasks import run_compliance_request
from app.extensions import db
from app.inbox.models import WebhookDelivery
from app.records.models import Customer
from app.stores.models import Store
from connectors.events import ComplianceRequest as ComplianceEvent
from tests.compliance.conftest import (
    CUSTOMER_ID,
    EMAIL,
    FIRST,
    LAST,
    PHONE,
    compliance_payload,
    find_in_any_table,
    personal_strings,
    populate,
    run_requests,
    send,
    store_totals,
)
from tests.helpers import SHOP, add_store, dumps, process_all, shopify_order


def test_data_request_exports_the_customer_with_orders_refunds_and_fulfilments(app, client, ctx):
    add_store("shopify")
    populate(client)
    send(client, "customers/data_request", compliance_payload("customers_data_request"))
    assert process_all(app) == {"done": 7}
    assert run_requests(app) == ["completed"]
    db.session.expire_all()
    request = db.session.scalar(select(ComplianceRequest))
    assert (request.topic, request.customer_platform_id, request.data_request_id) == (
        "customers/data_request",
        str(CUSTOMER_ID),
        "9999",
    )
    assert request.order_platform_ids == ["299938", "280263", "220458"]
    assert request.completed_at is not None and request.summary == {"customers": 1, "orders": 2}
    export = request.export
    [customer] = export["customers"]
    assert (customer["email"], customer["first_name"], customer["phone"]) == (EMAIL, FIRST, PHONE)
    orders = {o["platform_id"]: o for o in export["orders"]}
    assert set(orders) == {"299938", "280263"}  # not the bystander's
    assert [r["amount"] for r in orders["299938"]["refunds"]] == ["20.0000"] or orders["299938"]["refunds"][0][
        "amount"
    ].startswith("20")
    assert [f["platform_id"] for f in orders["280263"]["fulfillments"]] == ["6001"]
    assert "bystander@example.com" not in json.dumps(export)
    # The CLI hands it to the merchant.
    runner = app.test_cli_runner()
    from app.compliance.cli import compliance_cli

    shown = runner.invoke(compliance_cli, ["export", str(request.id)])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["orders"] == json.loads(json.dumps(export["orders"]))
    listed = runner.invoke(compliance_cli, ["list", "--store", SHOP])
    assert [r["topic"] for r in json.loads(listed.output)] == ["customers/data_request"]
    assert EMAIL.lower() not in listed.output.lower()  # the listing carries ids only


def test_customer_redact_leaves_no_personal_data_and_keeps_the_totals(app, client, ctx):
    store = add_store("shopify")
    populate(client)
    send(client, "customers/data_request", compliance_payload("customers_data_request"))
    process_all(app)
    assert run_requests(app) == ["completed"]
    db.session.expire_all()
    before = store_totals(store.id)
    assert find_in_any_table(personal_strings())  # present everywhere before: the test can see them

    send(client, "customers/redact", compliance_payload("customers_redact"))
    assert process_all(app) == {"done": 1}
    assert run_requests(app) == ["completed", "completed"]
    db.session.expire_all()
    assert find_in_any_table(personal_strings()) == []
    assert store_totals(store.id) == before  # counts, order totals, refunds and customer aggregates
    tomb = db.session.scalar(select(Customer).where(Customer.platform_id == str(CUSTOMER_ID)))
    assert tomb.email is None and compliance.is_tombstone(tomb) and tomb.orders_count == 2
    redact = db.session.scalar(select(ComplianceRequest).where(ComplianceRequest.topic == "customers/redact"))
    assert redact.summary["customers"] == 1 and redact.summary["exports_purged"] == 1
    assert redact.summary["inbox_scrubbed"] == 7  # customer, 2 orders, refund, fulfilment, both requests
    # The bystander is untouched, and so are the raw deliveries about them.
    assert db.session.scalar(select(Customer).where(Customer.email_key == "bystander@example.com")) is not None
    assert find_in_any_table(["bystander@example.com"])


def test_later_guest_order_with_the_same_email_is_a_new_guest(app, client, ctx):
    store = add_store("shopify")
    populate(client)
    send(client, "customers/redact", compliance_payload("customers_redact"))
    process_all(app)
    run_requests(app)
    send(client, "orders/create", shopify_order(7777, email=EMAIL, customer_id=None, total="9.99"))
    assert process_all(app) == {"done": 1}
    db.session.expire_all()
    guest = db.session.scalar(select(Customer).where(Customer.email_key == EMAIL.lower()))
    tomb = db.session.scalar(select(Customer).where(Customer.platform_id == str(CUSTOMER_ID)))
    assert guest.is_guest and guest.id != tomb.id and guest.orders_count == 1
    assert tomb.orders_count == 2 and tomb.email is None
    assert db.session.scalar(select(func.count()).select_from(Customer).where(Customer.store_id == store.id)) == 3


def test_late_delivery_about_an_erased_account_does_not_refill_it(app, client, ctx):
    add_store("shopify")
    populate(client)
    send(client, "customers/redact", compliance_payload("customers_redact"))
    process_all(app)
    run_requests(app)
    late = shopify_order(
        299938, email=EMAIL, customer_id=CUSTOMER_ID, total="120.00", updated_at="2026-11-09T10:00:00Z"
    )
    late["customer"].update(first_name=FIRST, last_name=LAST)
    send(client, "orders/updated", late)
    assert process_all(app) == {"done": 1}
    db.session.expire_all()
    tomb = db.session.scalar(select(Customer).where(Customer.platform_id == str(CUSTOMER_ID)))
    assert (tomb.email, tomb.first_name, tomb.last_name) == (None, None, None) and compliance.is_tombstone(tomb)
    assert tomb.orders_count == 2


def test_redact_by_email_only_finds_a_guest_and_not_another_account(app, client, ctx):
    add_store("shopify")
    send(client, "orders/create", shopify_order(4001, email=EMAIL, customer_id=None, total="10.00"))
    send(client, "orders/create", shopify_order(4002, email="other@example.com", customer_id=5555, total="11.00"))
    process_all(app)
    payload = compliance_payload("customers_redact")
    payload["customer"] = {"email": EMAIL.upper()}
    payload["orders_to_redact"] = []
    send(client, "customers/redact", payload)
    process_all(app)
    assert run_requests(app) == ["completed"]
    db.session.expire_all()
    assert find_in_any_table([EMAIL.lower()]) == []
    assert db.session.scalar(select(Customer).where(Customer.platform_id == "5555")).email == "other@example.com"


def test_jobs_are_idempotent_and_deliveries_record_one_request(app, client, ctx):
    store = add_store("shopify")
    populate(client)
    for _ in range(2):
        send(client, "customers/redact", compliance_payload("customers_redact"), event_id="redact-1")
    process_all(app)
    [request] = db.session.scalars(select(ComplianceRequest)).all()
    assert run_compliance_request(request.id) == "completed"
    db.session.expire_all()
    first = (db.session.get(ComplianceRequest, request.id).summary, store_totals(store.id))
    assert run_compliance_request(request.id) == "completed"
    db.session.expire_all()
    assert (db.session.get(ComplianceRequest, request.id).summary, store_totals(store.id)) == first
    # Recording the same delivery again (a replayed delivery) finds the same row.
    delivery = db.session.get(WebhookDelivery, request.delivery_id)
    event = ComplianceEvent(topic="customers/redact", payload={"customer": {"id": CUSTOMER_ID}})
    again = compliance.record_compliance_request(db.session, db.session.get(Store, store.id), event, delivery)
    assert again.id == request.id


def test_a_failing_request_is_retried_then_parked(app, client, ctx, monkeypatch):
    add_store("shopify")
    send(client, "customers/redact", compliance_payload("customers_redact"))
    process_all(app)
    request_id = db.session.scalar(select(ComplianceRequest.id))

    def boom(*_args, **_kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(compliance_run, "redact_customer", boom)
    assert run_compliance_request(request_id) == "pending"
    db.session.expire_all()
    row = db.session.get(ComplianceRequest, request_id)
    assert row.attempts == 1 and row.error == "RuntimeError: database hiccup" and row.next_attempt_at is not None
    monkeypatch.setattr(compliance_run, "MAX_ATTEMPTS", 2)
    assert run_compliance_request(request_id) == "failed"


def test_inbox_scrub_scans_in_batches(app, ctx, monkeypatch):
    """Many deliveries: every matching one is scrubbed across batch boundaries, the rest untouched."""
    store = add_store("shopify")
    monkeypatch.setattr(compliance_data, "SCAN_BATCH", 7)
    rows = []
    for i in range(100):
        about = i % 10 == 0
        payload = shopify_order(10_000 + i, email=EMAIL if about else f"c{i}@example.com", customer_id=None)
        rows.append(
            {
                "store_id": store.id,
                "platform": "shopify",
                "topic": "orders/create",
                "dedupe_key": f"k{i}",
                "body": dumps(payload),
                "status": "done",
                "attempts": 1,
            }
        )
    db.session.execute(WebhookDelivery.__table__.insert(), rows)
    db.session.commit()
    matcher = compliance_data.InboxMatcher(frozenset({EMAIL.lower()}), frozenset(), frozenset(), frozenset())
    started = time.perf_counter()
    assert compliance_data.scrub_inbox(db.session, store.id, matcher, marker={"redacted": "test"}) == 10
    db.session.commit()
    assert time.perf_counter() - started < 5
    assert find_in_any_table([EMAIL.lower()]) == []
    assert len(find_in_any_table(["c1@example.com"])) == 1
