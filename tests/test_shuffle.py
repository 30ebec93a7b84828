"""A store's whole history, delivered in order and shuffled, ends in the same records.

The history comes from the demo scenario generator (app/demo/scenario.py):
accounts and guests, guests who sign up later, payments, fulfilments, carrier
events, partial and full refunds, cancellations, and repeated deliveries.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import func, select

from app.demo.scenario import build_scenario, sign
from app.extensions import db
from app.loyalty.models import PointsLedger
from app.money import format_money
from app.records.models import Customer, Order
from tests.helpers import SHOP, SHOPIFY_SECRET, WOO_SECRET, WOO_SITE, add_store, process_all, reset_state

SECRETS = {"shopify": SHOPIFY_SECRET, "woocommerce": WOO_SECRET.encode()}


def _deliver(app, client, deliveries) -> None:
    with app.app_context():
        add_store("shopify")
        add_store("woocommerce")
    for delivery in deliveries:
        response = client.post(
            f"/webhooks/{delivery.platform}", data=delivery.body, headers=sign(delivery, SECRETS[delivery.platform])
        )
        assert response.status_code == 200, response.data
    process_all(app)


def _records(app) -> dict[str, Any]:
    """Everything a merchant could see, minus our own surrogate ids and row timestamps."""
    with app.app_context():
        customers = db.session.scalars(select(Customer)).all()
        # Each customer's points: the ledger's rows summed (docs/loyalty.md: appended, never changed).
        points = dict(
            db.session.execute(
                select(PointsLedger.customer_id, func.sum(PointsLedger.points)).group_by(PointsLedger.customer_id)
            ).all()
        )
        email_of = {c.id: (c.store_id, c.email_key, c.platform_id) for c in customers}
        customer_rows = [
            (
                c.store_id,
                c.platform_id,
                c.email_key,
                c.first_name,
                c.last_name,
                c.orders_count,
                c.currency,
                format_money(c.total_spent, c.currency),
                format_money(c.total_refunded, c.currency),
                c.first_order_at,
                c.last_order_at,
                int(points.get(c.id) or 0),
            )
            for c in customers
        ]
        order_rows = [
            (
                o.store_id,
                o.platform_id,
                email_of.get(o.customer_id),
                str(o.total_price),
                str(o.refunded_amount),
                o.financial_status,
                o.paid_at,
                o.fulfilled_at,
                o.delivered_at,
                o.cancelled_at,
                o.deleted_at is None,
            )
            for o in db.session.scalars(select(Order))
        ]
        db.session.remove()
    # repr as the sort key: rows mix None with values, which tuples cannot order.
    return {"customers": sorted(customer_rows, key=repr), "orders": sorted(order_rows, key=repr)}


# Seed 18: 630 deliveries with trashed WooCommerce orders (order.deleted), refunds and cancellations.
@pytest.mark.parametrize("seed", [18])
def test_shuffled_delivery_gives_the_same_records(app, client, seed):
    scenario = build_scenario(seed=seed, customers=24, orders=100, shopify_shop=SHOP, woo_site=WOO_SITE)
    topics = {d.topic for d in scenario.deliveries}
    assert {"order.deleted", "refunds/create", "orders/cancelled", "fulfillment_events/create"} <= topics

    _deliver(app, client, scenario.deliveries)
    in_order = _records(app)
    _check_expected(in_order, scenario.expected)

    reset_state(app)
    shuffled = list(scenario.deliveries)
    random.Random(seed).shuffle(shuffled)
    _deliver(app, client, shuffled)
    assert _records(app) == in_order


def _check_expected(records: dict[str, Any], expected: dict[tuple[str, str], dict]) -> None:
    """The generator's own model of the final state agrees with ours: orders, spend and points."""
    platform_of_store = {1: "shopify", 2: "woocommerce"}
    actual = {
        (platform_of_store[row[0]], row[2]): {"orders_count": row[5], "total_spent": row[7], "points": row[11]}
        for row in records["customers"]
    }
    fields = ("orders_count", "total_spent", "points")
    mismatches = [
        (key, want, actual.get(key))
        for key, want in expected.items()
        if actual.get(key) != {name: want[name] for name in fields}
    ]
    assert not mismatches, mismatches[:5]
