"""The query log check's classifier (tests/distribution.py) and its regressions: statements the app issues name
their store (tests/query_audit.py runs it over the whole suite on PostgreSQL, or when PPE_QUERY_AUDIT=1)."""

from __future__ import annotations

import importlib

import pytest
from sqlalchemy import select

from app.extensions import db
from tests import distribution
from tests.helpers import add_store, dumps, process_all, shopify_headers, shopify_order
from tests.query_audit import audited, origins


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("SELECT customers.id FROM customers WHERE customers.id = ?", "unscoped"),
        ("SELECT customers.id, customers.store_id FROM customers WHERE customers.id = ?", "unscoped"),
        ("SELECT customers.id FROM customers WHERE customers.store_id = ? AND customers.id = ?", "scoped"),
        ("SELECT customers.id FROM customers WHERE ? = customers.store_id", "scoped"),
        ("DELETE FROM orders WHERE store_id = :s", "scoped"),
        ("UPDATE orders SET x=? WHERE orders.id = ?", "unscoped"),
        ("UPDATE orders SET x=%(x)s WHERE orders.store_id = ANY (%(s)s)", "scoped"),
        ("INSERT INTO orders (store_id, platform_id) VALUES (?, ?)", "scoped"),
        ("INSERT INTO orders (platform_id) VALUES (?)", "unscoped"),
        (
            "SELECT o.id FROM orders AS o JOIN customers ON customers.id = o.customer_id WHERE o.store_id = ?",
            "join_by_id",
        ),
        (
            "SELECT o.id FROM orders AS o JOIN customers ON customers.id = o.customer_id "
            "AND customers.store_id = o.store_id WHERE o.store_id = ?",
            "scoped",
        ),
        ("SELECT count(*) FROM orders, customers WHERE customers.store_id = orders.store_id", "unscoped"),
        ("SELECT stores.id FROM stores WHERE stores.domain = ?", "global"),
        ("SELECT pg_advisory_xact_lock(1, 2)", "global"),
        ("SELECT EXTRACT(epoch FROM orders.placed_at) FROM orders WHERE orders.store_id = ?", "scoped"),
    ],
)
def test_classify(app, sql, kind):
    assert distribution.classify(sql).kind == kind


def test_every_named_exception_is_a_function_of_the_app():
    """A renamed or removed function leaves no stale entry behind (the lists only shrink)."""
    for name in [*distribution.CROSS_STORE_SCANS, *distribution.JOBS_BY_ID]:
        module, _, qualname = name.partition(":")
        target = importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
        assert callable(target), name


def test_an_inbox_batch_of_two_stores_names_the_store_of_every_delivery_it_reads(app, client, ctx):
    """The batch's part of one store read and finished its deliveries by id alone (a claim's ids are of
    several stores): on Citus a scan of every shard, and a read that trusted the id to be the store's."""
    add_store("shopify")
    add_store("shopify", domain="second.myshopify.com")
    for n, shop in ((1, "test-shop.myshopify.com"), (2, "second.myshopify.com")):
        body = dumps(shopify_order(7000 + n))
        headers = shopify_headers("orders/create", body, shop=shop)
        assert client.post("/webhooks/shopify", data=body, headers=headers).status_code == 200
    with audited() as audit:
        assert process_all(app) == {"done": 2}
    unscoped = [row for row in audit.report()["kinds"].get("unscoped", []) if "webhook_inbox" in row["sql"]]
    assert unscoped == []


def test_a_job_carries_its_store_and_one_queued_before_that_reads_it_once(app, client, ctx):
    """Every job is enqueued with its row's store id and its reads name it (none of JOBS_BY_ID's old entries is
    left: the audit over the suite checks each job). A job of the old shape, queued before the deploy and still in
    Redis, still runs: it reads its row's store once, by id (platform/sql.job_store_id), then names it."""
    from app.compliance.models import ComplianceRequest
    from app.compliance.tasks import run_compliance_request
    from tests.compliance.conftest import compliance_payload, send

    add_store("shopify")
    send(client, "customers/redact", compliance_payload("customers_redact"))
    process_all(app)
    request_id, store_id = db.session.execute(select(ComplianceRequest.id, ComplianceRequest.store_id)).one()
    db.session.remove()

    with audited() as old_shape:
        assert run_compliance_request(request_id) == "completed"
    with audited() as new_shape:
        assert run_compliance_request(request_id, store_id) == "completed"  # idempotent: nothing to do twice
    assert origins(old_shape, "job_by_id") == {"app.platform.sql:job_store_id"}
    assert origins(new_shape, "job_by_id") == set()
    assert origins(old_shape, "unscoped") == origins(new_shape, "unscoped") == set()
    assert set(distribution.JOBS_BY_ID) == {"app.platform.sql:job_store_id"}


@pytest.mark.parametrize(
    ("job", "gone"),
    [
        ("app.compliance.tasks:run_compliance_request", "missing"),
        ("app.reviews.tasks:send_review_request", "missing"),
        ("app.messaging.tasks:send_message", "skipped"),
        ("app.recovery.tasks:work_case", {"status": "unknown"}),
        ("app.surprises.tasks:work_surprise", {"status": "unknown"}),
        ("app.campaigns.tasks:fan_out", {"batches": 0, "finished": 0}),
        ("app.campaigns.tasks:send_batch", {}),
        ("app.campaigns.tasks:create_coupon", {"status": "unknown"}),
        ("app.referrals.tasks:create_friend_discount", "skipped"),
        ("app.referrals.tasks:create_reward_discount", "skipped"),
        ("app.loyalty.redemption_tasks:issue_discount", {"status": "unknown"}),
    ],
)
def test_a_job_of_the_old_shape_whose_row_is_gone_ends_quietly(app, ctx, job, gone):
    """A job queued by the previous release (its row id alone) whose row was erased meanwhile (a store's data
    deleted): its one lookup of the store finds nothing, and the job ends as a job for a missing row did."""
    module, _, name = job.partition(":")
    with audited() as audit:
        assert getattr(importlib.import_module(module), name)(999_999) == gone
    assert origins(audit, "job_by_id") == {"app.platform.sql:job_store_id"}
