"""Migrations match the models; the CLI prints records as JSON; secrets stay encrypted."""

from __future__ import annotations

import json
import logging

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from app.extensions import db
from app.platform.store_keys import sqlite_keeps_single_keys
from app.stores.models import Store
from tests.helpers import WOO_SECRET, dumps, process_all, shopify_headers, shopify_order


def test_migrations_match_the_models(app, ctx):
    with db.engine.connect() as conn:
        # As `flask db migrate` compares (migrations/env.py): SQLite keeps single-column keys for the store keys.
        opts = {"include_object": sqlite_keeps_single_keys} if conn.dialect.name == "sqlite" else {}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), db.metadata)
    assert diff == [], diff


def test_stores_cli_add_list_and_reject_bad_domains(app, ctx):
    runner = app.test_cli_runner()
    added = runner.invoke(args=["stores", "add", "shopify", "Cool-Shop.myshopify.com", "--access-token", "shpat_x"])
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["domain"] == "cool-shop.myshopify.com"
    woo = runner.invoke(
        args=[
            "stores",
            "add",
            "woocommerce",
            "https://woo.example.com/",
            "--consumer-key",
            "ck",
            "--consumer-secret",
            "cs",
            "--webhook-secret",
            WOO_SECRET,
            "--currency",
            "eur",
        ]
    )
    assert woo.exit_code == 0, woo.output
    listed = json.loads(runner.invoke(args=["stores", "list"]).output)
    assert [(s["platform"], s["domain"], s["currency"]) for s in listed] == [
        ("shopify", "cool-shop.myshopify.com", None),
        ("woocommerce", "woo.example.com", "EUR"),
    ]
    for shop in ("evil.com", "x.myshopify.com.evil.com", "-lead.myshopify.com"):
        bad = runner.invoke(args=["stores", "add", "shopify", "--", shop])
        assert bad.exit_code != 0 and "myshopify.com" in bad.output


def test_credentials_are_encrypted_at_rest(app, ctx):
    runner = app.test_cli_runner()
    runner.invoke(args=["stores", "add", "shopify", "vault.myshopify.com", "--access-token", "shpat_topsecret"])
    raw = db.session.execute(text("SELECT credentials FROM stores")).scalar_one()
    assert b"shpat_topsecret" not in bytes(raw)
    from app.security import secret_box

    assert secret_box().open(db.session.scalar(select(Store.credentials))) == {"access_token": "shpat_topsecret"}


def test_customers_show_by_email_or_platform_id(app, client, ctx):
    runner = app.test_cli_runner()
    runner.invoke(args=["stores", "add", "shopify", "test-shop.myshopify.com"])
    body = dumps(shopify_order(total="12.50"))
    client.post("/webhooks/shopify", data=body, headers=shopify_headers("orders/create", body))
    process_all(app)
    by_email = runner.invoke(args=["customers", "show", "test-shop.myshopify.com", "ANN@example.com", "--json"])
    by_id = runner.invoke(args=["customers", "show", "test-shop.myshopify.com", "7001", "--json"])
    assert by_email.exit_code == 0, by_email.output
    assert json.loads(by_email.output) == json.loads(by_id.output)
    record = json.loads(by_email.output)
    assert (record["orders_count"], record["total_spent"], record["orders"][0]["total"]) == (1, "12.50", "12.50")
    missing = runner.invoke(args=["customers", "show", "test-shop.myshopify.com", "nobody@example.com"])
    assert missing.exit_code != 0


def test_no_personal_data_or_secrets_in_logs(app, client, ctx, caplog):
    caplog.set_level(logging.DEBUG)
    runner = app.test_cli_runner()
    runner.invoke(args=["stores", "add", "shopify", "test-shop.myshopify.com", "--access-token", "shpat_hidden"])
    body = dumps(shopify_order(email="private.person@example.com"))
    client.post("/webhooks/shopify", data=body, headers=shopify_headers("orders/create", body))
    bad = bytearray(body)
    bad[5] ^= 1
    client.post("/webhooks/shopify", data=bytes(bad), headers=shopify_headers("orders/create", body))
    process_all(app)
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert caplog.records  # the path does log (so the check below means something)
    for secret in ("private.person", "shpat_hidden", "test-shopify-secret"):
        assert secret not in logged


def test_inbox_retry_replays_a_failed_delivery_after_a_fix(app, client, ctx, monkeypatch):
    from app.inbox import pipeline as dispatch
    from app.inbox.models import WebhookDelivery
    from app.records.models import Customer
    from connectors.events import OrderChanged

    runner = app.test_cli_runner()
    runner.invoke(args=["stores", "add", "shopify", "test-shop.myshopify.com"])
    body = dumps(shopify_order())
    client.post("/webhooks/shopify", data=body, headers=shopify_headers("orders/create", body))
    real = dispatch.PIPELINE[OrderChanged]

    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setitem(dispatch.PIPELINE, OrderChanged, (broken,))
    app.config["INBOX_MAX_ATTEMPTS"] = 1
    try:
        assert process_all(app, fallback=True) == {"failed": 1}
    finally:
        app.config["INBOX_MAX_ATTEMPTS"] = 8
    stats = json.loads(runner.invoke(args=["inbox", "stats"]).output)
    assert [(s["topic"], s["status"], s["count"]) for s in stats["deliveries"]] == [("orders/create", "failed", 1)]
    # Failed is not behind: nothing waits, and nothing was processed (done) yet.
    assert [(s["depth"], s["oldest_unprocessed_age_seconds"], s["last_processed_at"]) for s in stats["stores"]] == [
        (0, None, None)
    ]
    monkeypatch.setitem(dispatch.PIPELINE, OrderChanged, real)  # the fix is deployed
    assert json.loads(runner.invoke(args=["inbox", "retry"]).stdout) == {"requeued": 1}  # progress: stderr
    assert process_all(app) == {"done": 1}
    assert db.session.scalar(select(Customer)).orders_count == 1
    assert db.session.scalar(select(WebhookDelivery)).status == "done"
