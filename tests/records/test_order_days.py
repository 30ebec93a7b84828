"""The Overview's rollup and order chains (records/order_days.py) as the records leave them equal a recomputation
from scratch and a plain-Python reference, after random histories applied one delivery per transaction and in
inbox batches: orders arriving out of order (an older order after a newer one of the same customer), the same
instant twice, refunds, cancellations and their reversal, deletions and restores, an order moving to another
customer, a guest merged into an account."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.records import order_days
from app.records.models import Order, OrderDay
from connectors.events import CustomerSnapshot
from tests.helpers import add_store
from tests.inbox.test_batch_derived import _apply_in_batches
from tests.loyalty.conftest import T0, apply, deleted_event, order_event, refund_event

PEOPLE = [
    CustomerSnapshot(platform_id="c1", email="ann@example.com"),
    CustomerSnapshot(platform_id="c2", email="bob@example.com"),
    CustomerSnapshot(platform_id=None, email="cat@example.com"),  # a guest
    CustomerSnapshot(platform_id="c3", email="cat@example.com"),  # the guest signs up: merged
]


def _history(seed: int) -> list:
    rng = random.Random(seed)
    events, state = [], {}
    for step in range(40):
        pid = str(rng.randrange(1, 13))
        o = state.setdefault(
            pid,
            {
                "who": rng.choice(PEOPLE[:3]),
                "at": T0 - timedelta(days=rng.randrange(0, 6), hours=rng.choice([0, 0, 5])),
                "total": Decimal(rng.randrange(100, 9000)) / 100,
                "cur": rng.choice(["EUR", "EUR", "USD"]),
                "cancelled": False,
                "refunds": 0,
            },
        )
        op = rng.choice(["order", "order", "order", "cancel", "uncancel", "refund", "delete", "restore", "move"])
        restored = op == "restore"
        if op == "delete":
            events.append(deleted_event(pid))
            continue
        if op == "refund":
            o["refunds"] += 1
            events.append(refund_event(pid, f"r{pid}-{o['refunds']}", "1.25"))
            continue
        o["cancelled"] = (o["cancelled"] or op == "cancel") and op != "uncancel"
        if op == "move":
            o["who"] = rng.choice(PEOPLE)
        event = order_event(
            pid,
            total=str(o["total"]),
            currency=o["cur"],
            cancelled=o["cancelled"],
            version=step + 1,
            customer=o["who"],
            restored=restored,
        )
        events.append(replace(event, order=replace(event.order, created_at=o["at"])))
    return events


def _held(store) -> tuple[set, set]:
    days = {
        (d.day, d.currency, d.orders, d.returning_orders, d.revenue_units, d.returning_units)
        for d in db.session.scalars(select(OrderDay).where(OrderDay.store_id == store.id))
    }
    chains = {
        (o.platform_id, o.prev_placed_at, o.next_placed_at)
        for o in db.session.scalars(select(Order).where(Order.store_id == store.id))
    }
    return days, chains


def _reference(store) -> set:
    """The rollup by plain Python over the orders as they are."""
    orders = list(db.session.scalars(select(Order).where(Order.store_id == store.id)))
    standing = [o for o in orders if o.cancelled_at is None and o.deleted_at is None]
    out: dict = defaultdict(lambda: [0, 0, 0, 0])
    for o in standing:
        back = o.customer_id is not None and any(
            p.customer_id == o.customer_id and (p.placed_at, p.id) < (o.placed_at, o.id) for p in standing
        )
        units = int((o.total_price - o.refunded_amount) * 10000)
        row = out[(order_days.day_of(o.placed_at), o.currency)]
        row[0] += 1
        row[1] += back
        row[2] += units
        row[3] += units if back else 0
    return {(day, cur, *values) for (day, cur), values in out.items()}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("batched", [False, True])
def test_rollup_equals_a_recomputation_from_scratch(app, ctx, seed, batched):
    store = add_store("shopify")
    events = _history(seed)
    if batched:
        _apply_in_batches(store, events, [7, 19, 30])
    else:
        for event in events:
            apply(store, event)
    db.session.expire_all()
    kept = _held(store)
    assert kept[0] == _reference(store)
    order_days.rebuild(db.session, store.id)
    db.session.commit()
    db.session.expire_all()
    assert _held(store) == kept
    # The histories reach what the rollup distinguishes.
    assert any(row[3] for row in kept[0]) and len({row[1] for row in kept[0]}) >= 1


def test_an_older_order_arriving_later_makes_the_newer_one_returning(app, ctx):
    store = add_store("shopify")
    ann = PEOPLE[0]
    newer = order_event("2", total="10.00", customer=ann)
    older = order_event("1", total="30.00", customer=ann)
    apply(store, replace(newer, order=replace(newer.order, created_at=T0)))
    db.session.expire_all()
    assert [(d.orders, d.returning_orders) for d in db.session.scalars(select(OrderDay))] == [(1, 0)]
    apply(store, replace(older, order=replace(older.order, created_at=T0 - timedelta(days=3))))
    db.session.expire_all()
    rows = {d.day: (d.orders, d.returning_orders, d.returning_units) for d in db.session.scalars(select(OrderDay))}
    assert rows == {T0.date(): (1, 1, 100000), (T0 - timedelta(days=3)).date(): (1, 0, 0)}


def test_rebuild_command_restores_a_damaged_rollup(app, ctx):
    store = add_store("shopify")
    for event in _history(3):
        apply(store, event)
    db.session.expire_all()
    kept = _held(store)
    db.session.execute(delete(OrderDay).where(OrderDay.store_id == store.id))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["stores", "rebuild-rollup", str(store.id)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert _held(store) == kept
