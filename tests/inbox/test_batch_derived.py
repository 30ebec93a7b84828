"""The batch path (derived work once per order at the end, inbox/batch_derived.py) against the per-delivery path.

Random order histories (the loyalty property test's operations), cut into random batches, end in the same
orders, customer totals, points and accounts as the same events applied one transaction each.
"""

from __future__ import annotations

import logging

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db
from app.inbox import batch_derived
from app.inbox.pipeline import dispatch
from app.loyalty.models import LoyaltyAccount, PointsLedger
from app.platform.locks import lock_store
from app.records import batch_rows, batch_scope
from app.records.models import Customer, Order
from app.reviews.models.review import SCHEDULED, ReviewRequest
from tests.helpers import add_store, reset_state
from tests.loyalty.conftest import T0, apply
from tests.loyalty.test_loyalty_property import ORDER_OPS, TOTALS, Reference, _event_for

plans = st.lists(
    st.tuples(st.sampled_from((*ORDER_OPS, "refund")), st.sampled_from(sorted(TOTALS)), st.integers(1, 100)),
    min_size=2,
    max_size=24,
)


def _events(plan) -> list:
    ref = Reference()
    out: list = []
    for version, (op, pid, n) in enumerate(plan, start=1):
        out += _event_for(ref, op, pid, n, version)
        ref.settle(pid)
    return out


def _apply_in_batches(store, events, cuts: list[int], *, savepoints: bool = True) -> None:
    """As inbox/batch.py applies a batch: the rows its events name loaded up front (batch_rows), then
    each event in its own SAVEPOINT (the careful pass) or all in one go (the first pass)."""
    bounds = sorted({0, len(events), *(c % (len(events) + 1) for c in cuts)})
    for start, end in zip(bounds, bounds[1:], strict=False):
        batch_scope.begin(db.session)
        try:
            lock_store(db.session, store.id)
            batch_rows.preload(db.session, store.id, events[start:end])
            for event in events[start:end]:
                if savepoints:
                    with db.session.begin_nested():
                        dispatch(db.session, store, event, T0)
                else:
                    dispatch(db.session, store, event, T0)
            batch_derived.run_deferred(db.session, store)
            db.session.commit()
        finally:
            batch_scope.end(db.session)


def _state(store) -> dict:
    s = db.session
    who = {c.id: c.platform_id or c.email_key for c in s.scalars(select(Customer))}
    points: dict = {}
    for row in s.scalars(select(PointsLedger).where(PointsLedger.store_id == store.id)):
        points[who[row.customer_id]] = points.get(who[row.customer_id], 0) + row.points
    orders = {
        (o.platform_id, who.get(o.customer_id), o.refunded_amount, o.paid_at, o.fulfilled_at, o.delivered_at)
        for o in s.scalars(select(Order))
    }
    customers = {(c.platform_id, c.email_key, c.orders_count, c.total_spent) for c in s.scalars(select(Customer))}
    accounts = {
        (who[a.customer_id], a.balance, a.pending, a.spendable, a.held, a.lifetime_earned)
        for a in s.scalars(select(LoyaltyAccount))
    }
    requests = {
        (r.order_platform_id, r.fulfillment_key, r.due_at)
        for r in s.scalars(select(ReviewRequest).where(ReviewRequest.status == SCHEDULED))
    }
    # A cancel and its reinstatement inside one batch write no rows at all (the per-delivery path writes
    # both): the same sums, so customers holding 0 compare equal.
    points = {who: total for who, total in points.items() if total}
    # An order that moves to another customer inside one batch never gave the first one an account there (the
    # per-delivery path made one, then emptied it): an account holding nothing equals no account.
    accounts = {a for a in accounts if any(a[1:])}
    return {"orders": orders, "customers": customers, "points": points, "accounts": accounts, "requests": requests}


def both_ways(app, events: list, cuts: list[int], savepoints: bool) -> tuple[dict, dict]:
    """The state after the events one transaction each, then (from scratch) after them in batches."""
    states = []
    for batched in (False, True):
        db.session.remove()  # end the previous run's transaction first: TRUNCATE waits for its locks
        reset_state(app)
        store = add_store("shopify")
        if batched:
            _apply_in_batches(store, events, cuts, savepoints=savepoints)
        else:
            for event in events:
                apply(store, event)
        states.append(_state(store))
    return states[0], states[1]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plans, st.lists(st.integers(0, 40), max_size=4), st.booleans())
@example([("pay", "1", 1), ("refund", "1", 30), ("deliver", "1", 1), ("refund", "1", 50)], [], True)
@example([("pay", "1", 1), ("cancel", "1", 1), ("uncancel", "1", 1), ("refund", "2", 40), ("pay", "2", 1)], [2], False)
def test_batches_end_where_one_transaction_per_delivery_ends(app, ctx, plan, cuts, savepoints):
    one_by_one, batched = both_ways(app, _events(plan), cuts, savepoints)
    # Review requests: a request the per-delivery path cancelled on the way (the order cancelled, then
    # reinstated, inside one batch) was never cancelled in the batch: it may be scheduled there alone.
    assert one_by_one.pop("requests") <= batched.pop("requests")
    assert batched == one_by_one


def test_a_batch_derives_each_order_once_and_does_not_fall_back(app, client, ctx, caplog, monkeypatch):
    """Through the real drain job: five deliveries of one order, the derived work once, no fallback."""
    from app.records import orders
    from tests.helpers import dumps, process_all, shopify_headers, shopify_order

    add_store("shopify")
    for version in range(5):
        payload = shopify_order(6001, total="40.00")
        payload["updated_at"] = f"2026-11-01T12:0{version}:00Z"
        body = dumps(payload)
        response = client.post("/webhooks/shopify", data=body, headers=shopify_headers("orders/updated", body))
        assert response.status_code == 200
    calls: list[str] = []
    real = orders.derive_order

    def counting(order, *args):
        calls.append(order.platform_id)
        return real(order, *args)

    monkeypatch.setattr(orders, "derive_order", counting)
    with caplog.at_level(logging.INFO):
        assert process_all(app) == {"done": 5}
    assert calls == ["6001"]
    assert "inbox.batch_retry" not in caplog.text
    order = db.session.scalar(select(Order))
    assert db.session.scalar(select(Customer)).orders_count == 1
    assert order.paid_at is not None
    assert sum(r.points for r in db.session.scalars(select(PointsLedger))) == 40
