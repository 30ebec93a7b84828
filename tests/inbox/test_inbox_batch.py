"""A claimed batch is one transaction per store (or group of stores), a SAVEPOINT per delivery where one fails
(inbox/batch.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.inbox.models import WebhookDelivery
from app.records.models import Customer
from tests.helpers import add_store, drain_counting_commits, dumps, process_all, shopify_headers, shopify_order


def _send(client, payload: dict) -> None:
    body = dumps(payload)
    response = client.post("/webhooks/shopify", data=body, headers=shopify_headers("orders/create", body))
    assert response.status_code == 200, response.data


def _statuses() -> dict[int, str]:
    rows = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    return {row.id: row.status for row in rows}


def test_a_malformed_delivery_is_parked_alone_and_its_neighbours_commit(app, client, ctx):
    add_store("shopify")
    bad = shopify_order(5002, total="50.00")
    bad["currency"] = None
    for payload in (shopify_order(5001, total="10.00"), bad, shopify_order(5003, total="30.00")):
        _send(client, payload)
    assert process_all(app) == {"done": 2, "failed": 1}
    assert list(_statuses().values()) == ["done", "failed", "done"]
    customer = db.session.scalar(select(Customer))
    assert (customer.orders_count, customer.total_spent) == (2, Decimal("40.00"))


def test_a_failing_delivery_rolls_back_alone_and_is_retried(app, client, ctx, monkeypatch):
    from app.inbox import pipeline as dispatch
    from app.records import orders
    from connectors.events import OrderChanged

    add_store("shopify")
    for order_id in (5001, 5002, 5003):
        _send(client, shopify_order(order_id, total="10.00"))

    def half_done_then_fail(session, store, evt):
        orders.apply_order(session, store, evt)  # writes, then the handler fails: the SAVEPOINT undoes them
        if evt.order.platform_id == "5002":
            raise RuntimeError("handler bug")

    monkeypatch.setitem(dispatch.PIPELINE, OrderChanged, (half_done_then_fail,))
    assert process_all(app, fallback=True) == {"done": 2, "pending": 1}
    row = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.status == "pending"))
    assert row.attempts == 1 and "handler bug" in row.last_error and row.next_attempt_at is not None
    customer = db.session.scalar(select(Customer))
    assert (customer.orders_count, customer.total_spent) == (2, Decimal("20.00"))


def _commits_draining(app, client, orders: int) -> int:
    """Send `orders` new orders of one store, drain the inbox (all done); the commits it took."""
    for order_id in range(5001, 5001 + orders):
        _send(client, shopify_order(order_id, total="10.00"))
    counts, commits = drain_counting_commits(app)
    assert counts == {"done": orders}
    return commits


def test_one_commit_per_batch(app, client, ctx):
    add_store("shopify")
    # The claim, the batch, and the empty claim that ends the drain: not one commit per delivery.
    assert _commits_draining(app, client, 10) <= 3
    assert db.session.scalar(select(Customer)).orders_count == 10


@pytest.mark.parametrize("store_part", [1, 500])
def test_each_group_commits_before_the_next_is_applied(app, client, ctx, monkeypatch, store_part):
    """A store's lock and rows are held for its own group of a batch only (inbox/batch_group.py: at most
    STORE_PART deliveries): a redemption in the first store (same advisory lock) must not wait while the worker
    applies the next group's deliveries. Within one group (STORE_PART 500: both stores' one delivery each), the
    first store's lock is held, and its delivery not yet done, until the group commits."""
    from sqlalchemy import text

    from app.inbox import pipeline as dispatch
    from app.platform.locks import LOCK_NAMESPACE as _LOCK_NAMESPACE
    from app.records import orders
    from connectors.events import OrderChanged

    if db.engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    first = add_store("shopify")
    second = add_store("shopify", domain="second-shop.myshopify.com")
    _send(client, shopify_order(5001, total="10.00"))
    body = dumps(shopify_order(6001, total="20.00"))
    headers = shopify_headers("orders/create", body, shop="second-shop.myshopify.com")
    assert client.post("/webhooks/shopify", data=body, headers=headers).status_code == 200
    seen: list[tuple[bool, str]] = []

    def while_second_store_applies(session, store, evt):
        if store.id == second.id:  # another connection: the first store's lock free, its delivery done
            with db.engine.connect() as other:
                free = other.scalar(
                    text("SELECT pg_try_advisory_xact_lock(:ns, :k)"), {"ns": _LOCK_NAMESPACE, "k": first.id}
                )
                status = other.scalar(select(WebhookDelivery.status).where(WebhookDelivery.store_id == first.id))
                other.rollback()
            seen.append((free, status))
        orders.apply_order(session, store, evt)

    from app.inbox import batch as inbox_batch

    monkeypatch.setattr(inbox_batch, "STORE_PART", store_part)
    monkeypatch.setitem(dispatch.PIPELINE, OrderChanged, (while_second_store_applies,))
    assert process_all(app) == {"done": 2}
    assert seen == ([(True, "done")] if store_part == 1 else [(False, "processing")])


def test_a_store_with_more_than_a_part_commits_part_by_part(app, client, ctx, monkeypatch):
    """A store's lock is held for at most STORE_PART of its deliveries: a long run of one store's deliveries in
    one claimed batch is applied in several transactions, in order, all done."""
    from app.inbox import batch as inbox_batch

    monkeypatch.setattr(inbox_batch, "STORE_PART", 3)
    add_store("shopify")
    # The claim, parts of 3, 3 and 1, the empty claim that ends the drain.
    assert _commits_draining(app, client, 7) == 1 + 3 + 1
    assert db.session.scalar(select(Customer)).orders_count == 7
