"""Shop-level privacy and lifecycle: shop/redact, uninstall and reinstall, adopting deferred deliveries, and the
requests a WooCommerce merchant files by hand.

Through the real path: the signed fixture payload is posted to the webhook
route, the inbox is drained, and the RQ job function runs in-process.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.compliance.models import ComplianceRequest
from app.compliance.shop_redact import SHOP_REDACT_DELAY
from app.compliance.tasks import run_compliance_request, sweep
from app.extensions import db
from app.inbox.models import WebhookDelivery
from app.records.models import Order
from app.security import secret_box
from app.stores import uninstall
from app.stores.models import Store
from app.stores.service import add_store as service_add_store
from tests.compliance.conftest import (
    compliance_payload,
    find_in_any_table,
    populate,
    run_requests,
    send,
    store_totals,
)
from tests.helpers import SHOP, add_store, fixture_json, process_all


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
    db.session.get(Store, store_id).installed_at -= SHOP_REDACT_DELAY * 2
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


def test_deliveries_parked_as_deferred_by_an_earlier_release_are_adopted(app, client, ctx):

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
    from app.stores.service import mark_uninstalled

    mark_uninstalled(db.session, db.session.get(type(woo), woo.id))  # what `flask woocommerce disconnect` ends with
    db.session.commit()
    assert runner.invoke(args=["compliance", "request", "woo.example.com", "shop/redact"]).exit_code == 0
    assert run_requests(app)[-1] == "completed"
    db.session.expire_all()
    for table in db.metadata.sorted_tables:
        if "store_id" in table.c and table.name != "compliance_requests":
            assert db.session.execute(select(table).where(table.c.store_id == woo_id)).first() is None, table.name
