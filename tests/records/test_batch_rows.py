"""The rows a batch loads up front (app/records/batch_rows.py) answer as the database would.

Customers are where a stale answer would hurt: a guest signs up, an account's email moves, a guest merges
into an account, all inside one batch. Random such histories, cut into random batches, applied with and
without SAVEPOINTs, must end where one transaction per delivery ends. Then the point of it: a batch's
lookups do not grow with its size, and a delivery rolled back inside a batch leaves nothing behind.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from app.extensions import db
from app.inbox.models import WebhookDelivery
from app.records.models import Customer, Order
from connectors.events import CustomerChanged, CustomerSnapshot
from tests.helpers import add_store, dumps, process_all, reset_state, shopify_headers, shopify_order
from tests.inbox.test_batch_derived import both_ways
from tests.loyalty.conftest import T0, order_event, refund_event

PEOPLE = {
    "ann": ("7001", "ann@example.com"),
    "ann_guest": (None, "ANN@example.com"),  # the same mailbox, spelled otherwise, as a guest
    "ann_moved": ("7001", "ann.new@example.com"),  # ann's account with a new address
    "bob_guest": (None, "bob@example.com"),
    "bob": ("7002", "bob@example.com"),  # bob signs up with his guest address
    "cat": ("7003", "cat@example.com"),
}
ops = st.lists(
    st.tuples(
        st.sampled_from(("order", "order", "signup", "refund")), st.sampled_from(sorted(PEOPLE)), st.sampled_from("123")
    ),
    min_size=2,
    max_size=20,
)


def _events(plan) -> list:
    out: list = []
    for version, (op, who, pid) in enumerate(plan, start=1):
        platform_id, email = PEOPLE[who]
        snap = CustomerSnapshot(platform_id=platform_id, email=email, updated_at=T0 + timedelta(minutes=version))
        if op == "order":
            out.append(order_event(pid, total="30.00", version=version, customer=snap))
        elif op == "signup" and platform_id is not None:
            out.append(CustomerChanged(customer=snap))
        elif op == "refund":
            out.append(refund_event(pid, f"r{pid}-{version}", "5.00"))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops, st.lists(st.integers(0, 30), max_size=3), st.booleans())
@example([("order", "bob_guest", "1"), ("signup", "bob", "1"), ("order", "bob", "2")], [], False)
@example([("order", "ann", "1"), ("signup", "ann_moved", "1"), ("order", "ann_guest", "2")], [], True)
@example([("order", "ann_guest", "1"), ("order", "ann", "2"), ("order", "ann_guest", "3")], [1], False)
def test_identity_changes_inside_a_batch_end_as_one_delivery_at_a_time(app, ctx, plan, cuts, savepoints):
    one_by_one, batched = both_ways(app, _events(plan), cuts, savepoints)
    assert batched == one_by_one


def _send(client, payload: dict, topic: str = "orders/create") -> None:
    body = dumps(payload)
    response = client.post("/webhooks/shopify", data=body, headers=shopify_headers(topic, body))
    assert response.status_code == 200, response.data


def _lookups_for(app, client, count: int) -> int:
    """SELECTs on the order, customer and fulfilment tables while one batch of `count` orders is applied."""
    for order_id in range(9001, 9001 + count):
        _send(client, shopify_order(order_id, total="10.00"))
    seen: list[str] = []

    def listener(_conn, _cursor, statement, *_args) -> None:
        head = statement.lstrip()[:200].lower()
        if head.startswith("select") and any(f"from {t} " in head for t in ("orders", "customers", "fulfillments")):
            seen.append(head)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert process_all(app) == {"done": count}
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(seen)


def test_a_batch_looks_its_rows_up_once_whatever_its_size(app, client, ctx):
    add_store("shopify")
    few = _lookups_for(app, client, 3)
    db.session.remove()
    reset_state(app)
    add_store("shopify")
    many = _lookups_for(app, client, 30)
    # Before: an order and two customer lookups (and one per fulfilment) per delivery, 30 -> 90+.
    assert many == few
    customer = db.session.scalar(select(Customer))
    assert (customer.orders_count, customer.total_spent) == (30, Decimal("300.00"))


def test_a_rolled_back_new_customer_is_not_served_to_the_next_delivery(app, client, ctx, monkeypatch):
    """The first pass fails, the careful pass rolls one delivery back: its new customer is gone, and the next
    delivery of the same person in the same batch creates the record again (once)."""
    from app.inbox import pipeline as dispatch
    from app.records import orders
    from connectors.events import OrderChanged

    add_store("shopify")
    _send(client, shopify_order(5001, total="10.00"))
    for order_id in (5002, 5003):
        _send(client, shopify_order(order_id, total="10.00", email="zed@example.com", customer_id=880088))

    def fail_once_created(session, store, evt):
        orders.apply_order(session, store, evt)
        if evt.order.platform_id == "5002":
            raise RuntimeError("handler bug")

    monkeypatch.setitem(dispatch.PIPELINE, OrderChanged, (fail_once_created,))
    assert process_all(app, fallback=True) == {"done": 2, "pending": 1}
    zed = db.session.scalars(select(Customer).where(Customer.platform_id == "880088")).all()
    assert len(zed) == 1 and zed[0].email_key == "zed@example.com"
    assert zed[0].orders_count == 1 and zed[0].total_spent == Decimal("10.00")
    pending = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.status == "pending"))
    assert pending is not None and "handler bug" in pending.last_error


def test_a_batch_writes_its_new_customers_together(app, client, ctx):
    """Each new customer used to be flushed alone for its id (writing out the batch's pending rows with it);
    on PostgreSQL their ids are drawn ahead from the sequence and the rows go out in one statement."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("sequences are PostgreSQL's; elsewhere the id still comes from a flush")
    add_store("shopify")
    for n in range(20):
        _send(client, shopify_order(9001 + n, total="10.00", email=f"c{n}@example.com", customer_id=8001 + n))
    inserts: list[str] = []

    def listener(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().lower().startswith("insert into customers"):
            inserts.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert process_all(app) == {"done": 20}
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(inserts) == 1
    customers = db.session.scalars(select(Customer).order_by(Customer.platform_id)).all()
    assert [c.platform_id for c in customers] == [str(8001 + n) for n in range(20)]
    assert len({c.id for c in customers}) == 20
    assert all((c.orders_count, c.email_key) == (1, f"c{n}@example.com") for n, c in enumerate(customers))
    orders = db.session.scalars(select(Order)).all()
    assert {o.customer_id for o in orders} == {c.id for c in customers}
