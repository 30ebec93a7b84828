"""Privacy requests and uninstall: export, erase a customer, erase a shop, revoke tokens.

Through the real path: the signed fixture payload is posted to the webhook
route, the inbox is drained, and the RQ job function runs in-process.
"""

from __future__ import annotations

import json
import time

from sqlalchemy import LargeBinary, String, Text, func, select
from sqlalchemy.types import JSON

from app.extensions import db
from app.models import Customer, Order, Store, WebhookDelivery
from app.models.compliance import ComplianceRequest
from app.security import secret_box
from app.services import compliance, compliance_data, compliance_run, uninstall
from app.services.stores import add_store as service_add_store
from app.tasks.compliance import run_compliance_request, sweep
from connectors.events import ComplianceRequest as ComplianceEvent
from tests.helpers import SHOP, add_store, dumps, fixture_json, process_all, shopify_headers, shopify_order

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
        ids = db.session.scalars(select(ComplianceRequest.id).order_by(ComplianceRequest.id)).all()
        db.session.remove()
    return [run_compliance_request(i) for i in ids]


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
    from app.cli.compliance import compliance_cli

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


def test_shop_redact_deletes_every_row_of_the_store_but_the_audit(app, client, ctx):
    store_id = add_store("shopify").id
    other_id = add_store("shopify", "other-shop.myshopify.com").id
    populate(client)
    populate(client, "other-shop.myshopify.com")
    send(client, "customers/data_request", compliance_payload("customers_data_request"))
    process_all(app)
    run_requests(app)
    send(client, "app/uninstalled", {"id": 1})
    process_all(app)
    send(client, "shop/redact", compliance_payload("shop_redact"))
    process_all(app)
    # shop/redact comes 48 h after the uninstall; here it is immediate, so the guard must see an old install.
    db.session.get(Store, store_id).installed_at -= uninstall.SHOP_REDACT_DELAY * 2
    db.session.commit()
    assert run_requests(app)[-1] == "completed"
    db.session.expire_all()
    for table in db.metadata.sorted_tables:
        column = table.c.get("store_id") if table.name != "stores" else table.c.id
        left = db.session.execute(select(func.count()).select_from(table).where(column == store_id)).scalar()
        expected = 2 if table.name == "compliance_requests" else 0
        assert left == expected, table.name
    audit = db.session.scalars(select(ComplianceRequest).where(ComplianceRequest.store_id == store_id)).all()
    assert {a.topic for a in audit} == {"customers/data_request", "shop/redact"}
    assert all(a.export is None for a in audit) and all(a.shop_domain == SHOP for a in audit)
    assert db.session.get(Store, other_id) is not None
    assert db.session.scalar(select(func.count()).select_from(Order).where(Order.store_id == other_id)) == 3
    assert run_compliance_request(audit[-1].id) == "completed"  # idempotent on a store that is gone


def test_shop_redact_after_a_reinstall_is_not_applied(app, client, ctx):
    store = add_store("shopify")
    populate(client)
    send(client, "shop/redact", compliance_payload("shop_redact"))
    process_all(app)
    assert run_requests(app) == ["completed"]
    db.session.expire_all()
    assert db.session.get(Store, store.id) is not None
    assert db.session.scalar(select(ComplianceRequest)).summary == {"skipped": "store reinstalled"}


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


def test_uninstall_revokes_the_token_and_reinstall_restores_service(app, client, ctx):
    store = add_store("shopify")
    called = []
    monkeypatch_hooks = [*uninstall.UNINSTALL_HOOKS]
    uninstall.register_uninstall_hook(lambda session, s: called.append(s.id))
    try:
        send(client, "app/uninstalled", fixture_json("shopify", "app_uninstalled"))
        assert process_all(app) == {"done": 1}
    finally:
        uninstall.UNINSTALL_HOOKS[:] = monkeypatch_hooks
    db.session.expire_all()
    row = db.session.get(Store, store.id)
    assert row.status == "uninstalled" and called == [store.id]
    assert "access_token" not in secret_box().open(row.credentials)
    service_add_store(db.session, secret_box(), "shopify", SHOP, {"access_token": "shpat_new"})
    db.session.commit()
    row = db.session.get(Store, store.id)
    assert row.status == "active" and secret_box().open(row.credentials) == {"access_token": "shpat_new"}


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


def test_deliveries_parked_as_deferred_by_an_earlier_release_are_adopted(app, client, ctx):
    from app.models import WebhookDelivery
    from app.tasks.compliance import sweep

    add_store("shopify")
    send(client, "customers/data_request", compliance_payload("customers_data_request"))
    row = db.session.scalar(select(WebhookDelivery))
    row.status = "deferred"  # what the foundation release did with compliance topics
    db.session.commit()
    assert sweep()["adopted"] == 1
    assert sweep()["adopted"] == 0
    assert run_requests(app) == ["completed"]


def test_woocommerce_merchant_files_an_erasure_and_a_store_erasure(app, client, ctx):
    """WooCommerce has no compliance webhooks: the merchant files them, and the same jobs run."""
    from tests.helpers import fixture_bytes, woo_headers

    woo = add_store("woocommerce")
    woo_id = woo.id
    body = fixture_bytes("woocommerce", "order")  # a guest order of john.doe@example.com
    client.post("/webhooks/woocommerce", data=body, headers=woo_headers("order.updated", body))
    process_all(app)
    before = store_totals(woo.id)
    runner = app.test_cli_runner()
    filed = runner.invoke(
        args=["compliance", "request", "woo.example.com", "customers/redact", "--email", "John.Doe@example.com"]
    )
    assert filed.exit_code == 0, filed.output
    assert run_requests(app) == ["completed"]
    db.session.expire_all()
    assert find_in_any_table(["john.doe@example.com", "(555) 555-5555", "969 market"]) == []
    assert store_totals(woo.id) == before

    nobody = runner.invoke(args=["compliance", "request", "woo.example.com", "customers/redact"])
    assert nobody.exit_code != 0 and "name the customer" in nobody.output
    active = runner.invoke(args=["compliance", "request", "woo.example.com", "shop/redact"])
    assert active.exit_code != 0 and "disconnect the store first" in active.output
    from app.services.stores import mark_uninstalled

    mark_uninstalled(db.session, db.session.get(type(woo), woo.id))  # what `flask woocommerce disconnect` ends with
    db.session.commit()
    assert runner.invoke(args=["compliance", "request", "woo.example.com", "shop/redact"]).exit_code == 0
    assert run_requests(app)[-1] == "completed"
    db.session.expire_all()
    for table in db.metadata.sorted_tables:
        if "store_id" in table.c and table.name != "compliance_requests":
            assert db.session.execute(select(table).where(table.c.store_id == woo_id)).first() is None, table.name
