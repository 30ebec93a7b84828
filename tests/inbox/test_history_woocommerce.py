"""WooCommerce history import through the stand-in's REST pages (X-WP-Total / X-WP-TotalPages), over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.inbox import history_apply
from app.inbox.history_import import run
from app.inbox.history_import import start as set_up
from app.platform.types import utcnow
from app.records.history import history_import
from app.records.models import Order
from tests.helpers import add_woo_store_at, dumps, process_all, woo_headers, woo_standin
from tests.inbox.history import counts, forget_records, order_state, woo_customer, woo_order

CUSTOMERS, ORDERS = 130, 1150  # 2 and 12 pages of 100


@pytest.fixture
def site(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "HISTORY_BULK_CHUNK", 500)  # several chunks on the bulk path too (PostgreSQL)
    with woo_standin(app, monkeypatch, timeout=5) as standin:
        standin.customers = [woo_customer(n) for n in range(CUSTOMERS)]
        standin.orders = [woo_order(n, CUSTOMERS) for n in range(ORDERS)]
        store = add_woo_store_at(standin)
        yield store, standin


def start(store, *, points: bool = False) -> None:
    set_up(db.session, store, earn_points=points, tiers_from_past=False, enqueue_job=False)
    db.session.commit()


def _gets(standin, path: str) -> int:
    return sum(1 for method, p in standin.requests if method == "GET" and p.endswith(path))


@pytest.mark.parametrize("prefetch", [False, True])  # the pages read on a thread (inbox/history_prefetch.py)
def test_every_page_read_once_counts_match_and_the_past_sends_nothing(app, site, monkeypatch, prefetch):
    store, standin = site
    monkeypatch.setitem(app.config, "HISTORY_PREFETCH", prefetch)
    monkeypatch.setattr("app.inbox.history_sources.time.sleep", lambda s: None)  # the 429's Retry-After
    standin.fail("GET", "/orders", 429, times=1, **{"Retry-After": "2"})
    standin.fail("GET", "/customers", 503, times=1)
    start(store)
    assert run(db.session, store.id) == "done"
    assert counts(store.id) == {
        "customers": CUSTOMERS,
        "orders": ORDERS,
        "refunds": ORDERS // 4 + (1 if ORDERS % 4 else 0),
        "ledger": 0,
        "review_requests": 0,
        "messages": 0,
    }
    row = history_import(db.session, store.id)
    assert (row.customers_total, row.orders_total, row.failed) == (CUSTOMERS, ORDERS, 0)
    assert (_gets(standin, "/customers"), _gets(standin, "/orders")) == (2 + 1, 12 + 1)  # each page once, + retries
    assert all(o.fulfilled_at is not None and o.paid_at is not None for o in db.session.query(Order))


def test_points_only_when_chosen(site):
    store, _ = site
    start(store, points=True)
    assert run(db.session, store.id) == "done"
    found = counts(store.id)
    assert found["ledger"] == ORDERS + found["refunds"]  # an earn per order, a reversal per refund
    assert (found["review_requests"], found["messages"]) == (0, 0)


def test_webhooks_during_the_import_end_as_webhooks_alone(app, client, site):
    store, standin = site
    newer = utcnow() - timedelta(hours=1)
    a = {**woo_order(5, CUSTOMERS, modified=newer), "status": "cancelled"}
    b = {**woo_order(ORDERS - 3, CUSTOMERS, modified=newer), "status": "cancelled"}
    body = dumps(a)
    client.post("/webhooks/woocommerce", data=body, headers=woo_headers("order.updated", body))
    process_all(app)
    start(store)
    assert run(db.session, store.id) == "done"
    body = dumps(b)
    client.post("/webhooks/woocommerce", data=body, headers=woo_headers("order.updated", body))
    process_all(app)
    imported = order_state(store.id)
    cancelled = [o[0] for o in imported if o[7] is not None]
    assert sorted(cancelled) == sorted([str(a["id"]), str(b["id"])])

    forget_records(store.id)
    for order in [*standin.orders, a, b]:
        body = dumps(order)
        client.post("/webhooks/woocommerce", data=body, headers=woo_headers("order.updated", body))
    process_all(app)
    assert imported == order_state(store.id)


def test_a_crash_mid_import_resumes_at_its_page(site, monkeypatch):
    store, standin = site
    start(store, points=True)
    real, applied = history_apply.apply_chunk, []

    def crash(session, store_id, kind, documents, cursor):
        if kind == "orders" and len(applied) == 2:
            raise KeyboardInterrupt
        applied.append(kind)
        return real(session, store_id, kind, documents, cursor)

    monkeypatch.setattr("app.inbox.history_import.apply_chunk", crash)
    with pytest.raises(KeyboardInterrupt):
        run(db.session, store.id)
    db.session.rollback()
    row = history_import(db.session, store.id)
    assert (row.status, row.orders_done, row.cursor["orders"]) == ("running", 500, {"page": 5})
    monkeypatch.setattr("app.inbox.history_import.apply_chunk", real)
    assert run(db.session, store.id) == "done"
    found = counts(store.id)
    assert (found["orders"], found["ledger"]) == (ORDERS, ORDERS + found["refunds"])
    assert history_import(db.session, store.id).orders_done == ORDERS


def test_a_document_that_does_not_parse_is_counted_and_the_rest_imported(site):
    store, standin = site
    standin.orders[7] = {**standin.orders[7], "currency": ""}  # MalformedPayload in the webhooks' parser
    start(store)
    assert run(db.session, store.id) == "done"
    assert history_import(db.session, store.id).failed == 1
    assert counts(store.id)["orders"] == ORDERS - 1
