"""A store part's fixed statements (inbox/batch.py): what the part has loaded is not read again.

At 1,000 stores a claim's store part holds one to three deliveries, so every statement a part sends whatever it
holds is paid per delivery (bench/README.md, "bench/process_parts.py"). These are the ones a part used to send
twice: the store's history policy (read with the store's row), the order the part's delivery named (preloaded,
then re-read to derive it), its customer (preloaded, then re-read to recompute the totals), and the customer's
order chain (three UPDATEs where one does).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import event, select

from app.extensions import db
from app.records.models import Customer, Order
from tests.helpers import add_store, dumps, process_all, shopify_headers, shopify_order


def _send(client, payload: dict, topic: str = "orders/create") -> None:
    body = dumps(payload)
    response = client.post("/webhooks/shopify", data=body, headers=shopify_headers(topic, body))
    assert response.status_code == 200, response.data


def _drain_logging(app) -> list[str]:
    statements: list[str] = []
    listener = lambda _c, _cur, statement, *_a: statements.append(" ".join(statement.split()))  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert process_all(app) == {"done": 1}
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return statements


def _count(statements: list[str], start: str) -> int:
    return sum(statement.startswith(start) for statement in statements)


def test_a_part_reads_what_it_loaded_once(app, client, ctx):
    add_store("shopify")
    _send(client, shopify_order(5001, total="40.00"))
    _send(client, shopify_order(5002, total="10.00", created_at="2026-11-02T10:00:00-05:00"))
    process_all(app)
    # An update of a known order of a known customer: its part preloads both, then derives the order, recomputes
    # the customer's totals and relinks the customer's orders from what it holds.
    _send(client, shopify_order(5001, total="40.00", updated_at="2026-11-03T10:00:00-05:00", cancelled_at=None))
    statements = _drain_logging(app)

    assert _count(statements, "SELECT history_imports") == 0  # read with the store's row
    assert [s for s in statements if "history_imports" in s and s.startswith("SELECT stores")]
    assert _count(statements, "SELECT orders.id") == 1  # the preload; the derived work re-reads none
    totals = next(i for i, s in enumerate(statements) if s.startswith("SELECT orders.customer_id, orders.currency"))
    assert _count(statements[:totals], "SELECT customers.id") == 1  # the preload; the totals re-read none
    assert _count(statements, "UPDATE orders SET prev_placed_at") <= 1  # the chain: one statement
    customer = db.session.scalar(select(Customer))
    assert (customer.orders_count, customer.total_spent) == (2, Decimal("50.00"))
    chain = dict(db.session.execute(select(Order.platform_id, Order.prev_placed_at)).all())
    assert chain["5001"] is None and chain["5002"] is not None
