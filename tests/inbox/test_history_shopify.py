"""Shopify history import through the stand-in's bulk operations, over real HTTP (tests/standins/shopify_bulk.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from graphql import parse, validate
from sqlalchemy import select

from app.extensions import db
from app.inbox import history_apply
from app.inbox.history_import import run
from app.loyalty.models import PointsLedger
from app.platform.types import utcnow
from app.records.history import history_import
from app.records.models import Order
from connectors import get_connector
from connectors.shopify_history import QUERIES, order_payload
from connectors.shopify_snapshots import order_snapshot
from tests.helpers import add_store, dumps, process_all, shopify_headers, shopify_standin
from tests.inbox.history import counts, forget_records, gql_customer, gql_order, order_state, rest_order
from tests.standins.shopify import admin_schema

CUSTOMERS, ORDERS = 40, 1200


@pytest.fixture
def shop(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "HISTORY_POLL_SECONDS", 0.01)
    monkeypatch.setitem(app.config, "HISTORY_BULK_CHUNK", 500)  # several chunks on the bulk path too (PostgreSQL)
    with shopify_standin(app, monkeypatch) as server:
        store = add_store()
        bulk = server.state(store.domain).bulk
        bulk.customers = [gql_customer(n) for n in range(CUSTOMERS)]
        bulk.orders = [gql_order(n, CUSTOMERS) for n in range(ORDERS)]
        yield store, server


def start(store, *, points: bool = False, tiers: bool = False) -> None:
    from app.inbox.history_import import start as set_up

    set_up(db.session, store, earn_points=points, tiers_from_past=tiers, enqueue_job=False)
    db.session.commit()


def test_queries_are_valid_bulk_documents():
    for query in QUERIES.values():
        assert validate(admin_schema(), parse(query)) == []


def test_an_imported_order_is_the_webhook_order():
    """One parsing path: the bulk object, spelled as REST, gives the very snapshot the webhook's JSON gives."""
    node = gql_order(8, 3)
    children = {**node, "__children": {"LineItem": node["lineItems"]}}
    [event] = get_connector("shopify").parse_event("orders/updated", rest_order(node))
    assert order_snapshot(order_payload(children)) == event.order


@pytest.mark.parametrize("prefetch", [False, True])  # the file read and parsed on a thread (inbox/history_prefetch.py)
def test_counts_match_and_the_past_sends_nothing(app, shop, monkeypatch, prefetch):
    monkeypatch.setitem(app.config, "HISTORY_PREFETCH", prefetch)
    store, server = shop
    start(store)
    assert run(db.session, store.id) == "done"
    found = counts(store.id)
    assert found == {
        "customers": CUSTOMERS,
        "orders": ORDERS,
        "refunds": ORDERS // 4,
        "ledger": 0,  # no points for the past unless chosen
        "review_requests": 0,
        "messages": 0,
    }
    row = history_import(db.session, store.id)
    assert (row.customers_done, row.customers_total, row.orders_done, row.orders_total) == (
        CUSTOMERS,
        CUSTOMERS,
        ORDERS,
        ORDERS,
    )
    assert server.calls["bulkOperationRunQuery"] == 2 and server.state(store.domain).bulk.queries == [
        QUERIES["customers"],
        QUERIES["orders"],
    ]
    assert all(o.delivered_at is not None for o in db.session.scalars(select(Order)))


def test_files_prepared_beforehand_are_served_through_the_same_operations(shop, tmp_path):
    """The bench makes its bulk files before its timed window (bench/history_standins.py): an operation for a
    prepared query serves that file as made, through the same mutation, polls and download, and leaves it."""
    from tests.standins.shopify_bulk import prepare

    store, server = shop
    bulk = server.state(store.domain).bulk
    made = [prepare(bulk, admin_schema(), QUERIES[kind], str(tmp_path)) for kind in ("customers", "orders")]
    bulk.customers, bulk.orders = [], []  # nothing left to make a file from: only the prepared ones can serve
    start(store)
    assert run(db.session, store.id) == "done"
    assert (counts(store.id)["customers"], counts(store.id)["orders"]) == (CUSTOMERS, ORDERS)
    assert server.calls["bulkOperationRunQuery"] == 2 and all(m.path.exists() for m in made)
    assert made[1].roots == ORDERS and made[1].objects > ORDERS  # line items on lines of their own


def test_points_for_the_past_only_when_chosen_marked_imported(shop):
    store, _ = shop
    start(store, points=True)
    assert run(db.session, store.id) == "done"
    earns = list(db.session.scalars(select(PointsLedger).where(PointsLedger.kind == "earn")))
    assert len(earns) == ORDERS and all(r.rule.get("imported") == "1" for r in earns)
    assert counts(store.id)["review_requests"] == 0 and counts(store.id)["messages"] == 0


def test_a_present_order_still_gets_its_review_request(app, client, shop):
    """The cut-off splits: an order placed after the install is followed as ever, past ones are not."""
    store, _ = shop
    start(store)
    run(db.session, store.id)
    present = rest_order(gql_order(ORDERS + 1, CUSTOMERS, when=utcnow() + timedelta(minutes=1)))
    client.post("/webhooks/shopify", data=dumps(present), headers=shopify_headers("orders/updated", dumps(present)))
    process_all(app)
    assert counts(store.id)["review_requests"] == 1


def test_webhooks_during_the_import_neither_double_nor_lose(app, client, shop):
    """Order A updated by a webhook before the import reaches it (the older bulk snapshot must not win); order
    B imported, then updated by a webhook: both end as their newest snapshot, as webhooks alone would leave them."""
    store, server = shop
    bulk = server.state(store.domain).bulk
    newer = lambda n: {  # noqa: E731
        **gql_order(n, CUSTOMERS, updated=utcnow() - timedelta(days=1)),
        "cancelledAt": gql_order(n, CUSTOMERS)["updatedAt"],
    }
    a, b = newer(3), newer(ORDERS - 2)
    for node in (a,):
        body = dumps(rest_order(node))
        client.post("/webhooks/shopify", data=body, headers=shopify_headers("orders/cancelled", body))
    process_all(app)
    start(store)
    assert run(db.session, store.id) == "done"
    body = dumps(rest_order(b))
    client.post("/webhooks/shopify", data=body, headers=shopify_headers("orders/cancelled", body))
    process_all(app)
    imported = order_state(store.id)

    # The same history delivered as webhooks only, in order, on a fresh store: the reference.
    forget_records(store.id)
    for node in [*bulk.orders, a, b]:
        body = dumps(rest_order(node))
        client.post("/webhooks/shopify", data=body, headers=shopify_headers("orders/updated", body))
    process_all(app)
    assert imported == order_state(store.id)
    assert sum(1 for o in imported if o[7] is not None) == 2  # both cancellations kept
    assert counts(store.id)["orders"] == ORDERS


def test_a_crash_mid_import_resumes_without_doing_work_twice(shop, monkeypatch):
    store, server = shop
    start(store, points=True)
    real, applied = history_apply.apply_chunk, []

    def crash_after_three(session, store_id, kind, documents, cursor):
        if kind == "orders" and len(applied) == 2:
            raise KeyboardInterrupt  # the worker killed between two chunks
        applied.append(cursor)
        return real(session, store_id, kind, documents, cursor)

    monkeypatch.setattr("app.inbox.history_import.apply_chunk", crash_after_three)
    with pytest.raises(KeyboardInterrupt):
        run(db.session, store.id)
    db.session.rollback()
    row = history_import(db.session, store.id)
    assert row.status == "running" and 0 < row.orders_done < ORDERS
    monkeypatch.setattr("app.inbox.history_import.apply_chunk", real)
    assert run(db.session, store.id) == "done"
    found = counts(store.id)
    assert (found["orders"], found["ledger"]) == (
        ORDERS,
        ORDERS + ORDERS // 4,
    )  # one earn each, one reversal per refund
    assert history_import(db.session, store.id).orders_done == ORDERS
    assert server.calls["bulkOperationRunQuery"] == 2  # the same operation's file read again, from the cursor


def test_a_lost_answer_to_the_bulk_query_adopts_the_operation_it_started(app, shop, monkeypatch):
    """bulkOperationRunQuery applied but its answer lost (a timeout): the retry is refused (one bulk query per
    shop) and the running operation, our very query, is the one read; no second operation."""
    store, server = shop
    monkeypatch.setitem(app.config, "SHOPIFY_API_TIMEOUT_SECONDS", 0.3)
    monkeypatch.setattr("app.inbox.history_sources.time.sleep", lambda s: None)
    server.slow_seconds = 0.6
    server.graphql_failures.append("slow")
    start(store)
    assert run(db.session, store.id) == "done"
    assert len(server.state(store.domain).bulk.operations) == 2  # customers, orders: one each
    assert counts(store.id)["customers"] == CUSTOMERS


def test_an_expired_result_file_starts_the_phase_over_on_the_next_run(shop):
    """A bulk file's signed URL expires after seven days (403): the import fails, and the next run starts the
    phase with a new operation; the records end the same, nothing doubled."""
    store, server = shop
    bulk = server.state(store.domain).bulk
    bulk.expire_files = True
    start(store, points=True)
    assert run(db.session, store.id) == "failed"
    row = history_import(db.session, store.id)
    assert "BulkOperationFailed" in row.last_error and row.cursor == {} and row.customers_done == 0
    bulk.expire_files = False
    assert run(db.session, store.id) == "done"
    assert len(bulk.operations) == 3  # customers twice (the expired one, then anew), orders once
    found = counts(store.id)
    assert (found["customers"], found["orders"], found["ledger"]) == (CUSTOMERS, ORDERS, ORDERS + ORDERS // 4)
    assert history_import(db.session, store.id).customers_done == CUSTOMERS
