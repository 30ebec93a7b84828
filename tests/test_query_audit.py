"""The query log check's classifier (tests/distribution.py) and its regressions: statements the app issues name
their store (tests/query_audit.py runs it over the whole suite on PostgreSQL, or when PPE_QUERY_AUDIT=1)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.extensions import db
from tests import distribution
from tests.helpers import add_store, dumps, process_all, shopify_headers, shopify_order
from tests.query_audit import Audit


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


@contextmanager
def _audited() -> Iterator[Audit]:
    audit = Audit()
    event.listen(db.engine, "before_cursor_execute", audit)
    try:
        yield audit
    finally:
        event.remove(db.engine, "before_cursor_execute", audit)


def test_an_inbox_batch_of_two_stores_names_the_store_of_every_delivery_it_reads(app, client, ctx):
    """The batch's part of one store read and finished its deliveries by id alone (a claim's ids are of
    several stores): on Citus a scan of every shard, and a read that trusted the id to be the store's."""
    add_store("shopify")
    add_store("shopify", domain="second.myshopify.com")
    for n, shop in ((1, "test-shop.myshopify.com"), (2, "second.myshopify.com")):
        body = dumps(shopify_order(7000 + n))
        headers = shopify_headers("orders/create", body, shop=shop)
        assert client.post("/webhooks/shopify", data=body, headers=headers).status_code == 200
    with _audited() as audit:
        assert process_all(app) == {"done": 2}
    unscoped = [row for row in audit.report()["kinds"].get("unscoped", []) if "webhook_inbox" in row["sql"]]
    assert unscoped == []
