"""A Shopify store with two customers and their orders, points and a review request: what the extension tests
(test_extension_api.py, the browser tests) read through the storefront API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from app.extensions import db
from app.loyalty.api import reconcile_order, update_settings
from app.platform.types import utcnow
from app.records.models import Customer, Order
from app.reviews.models import ReviewRequest
from app.security import secret_box
from app.stores.service import add_store
from app.stores.storefront_keys import ensure_keys
from tests.helpers import SHOP

CLIENT_ID = "ppe-test-client-id"
ALICE, BOB = "7001", "7002"


@dataclass
class Seeded:
    store_id: int
    public_key: str
    alice_id: int
    bob_id: int
    pending: str  # Alice's order, paid, not delivered: points pending
    delivered: str  # Alice's order, delivered 20 days ago: points spendable, one product to review
    cancelled: str  # Alice's order, cancelled: points reversed
    bobs: str  # Bob's order


def _order(store, customer, pid: str, amount: str, placed_days_ago: int, **dates) -> Order:
    now = utcnow()
    order = Order(
        store_id=store.id,
        platform_id=pid,
        customer_id=customer.id,
        name=f"#{pid}",
        currency="EUR",
        total_price=Decimal(amount),
        subtotal_price=Decimal(amount),
        financial_status="paid",
        locale="en",
        line_items=[
            {"product_id": "93", "title": "Woo Single #1", "quantity": 1},
            {"product_id": "94", "title": "Linen apron", "quantity": 1},
        ],
        placed_at=now - timedelta(days=placed_days_ago),
        platform_updated_at=now,
        paid_at=now - timedelta(days=placed_days_ago),
        **dates,
    )
    db.session.add(order)
    db.session.flush()
    reconcile_order(db.session, store, order, now)
    return order


def seed(access_token: str = "shpat_test") -> Seeded:
    """Needs an app context. Rewards: a 5 EUR code for 100 points; tiers Silver at 200 points earned.
    `access_token`: the Shopify stand-in's, where a redemption must create its discount code."""
    store = add_store(db.session, secret_box(), "shopify", SHOP, {"access_token": access_token}, currency="EUR")
    keys = ensure_keys(db.session, secret_box(), store)
    update_settings(
        db.session,
        store,
        {
            "rewards": [{"id": "five-off", "type": "fixed_amount", "points": 100, "value": "5", "currency": "EUR"}],
            "tiers": [
                {
                    "name": "Silver",
                    "threshold": "200",
                    "basis": "points_earned",
                    "window": "lifetime",
                    "multiplier": "1.5",
                }
            ],
        },
    )
    alice = Customer(store_id=store.id, platform_id=ALICE, first_name="Alice", email="alice@example.com")
    bob = Customer(store_id=store.id, platform_id=BOB, first_name="Bob", email="bob@example.com")
    db.session.add_all([alice, bob])
    db.session.flush()
    now = utcnow()
    delivered = _order(
        store, alice, "5001", "120.00", 30, fulfilled_at=now - timedelta(days=25), delivered_at=now - timedelta(days=20)
    )
    db.session.add(
        ReviewRequest(store_id=store.id, order_platform_id=delivered.platform_id, customer_id=alice.id, status="sent")
    )
    cancelled = _order(store, alice, "5002", "30.00", 10)
    cancelled.cancelled_at = now - timedelta(days=9)
    reconcile_order(db.session, store, cancelled, now)
    pending = _order(store, alice, "5003", "45.50", 0)
    bobs = _order(store, bob, "5004", "80.00", 1)
    db.session.commit()
    return Seeded(
        store.id,
        keys.public_key,
        alice.id,
        bob.id,
        pending.platform_id,
        delivered.platform_id,
        cancelled.platform_id,
        bobs.platform_id,
    )
