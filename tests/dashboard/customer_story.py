"""One customer's story for the Customers pages: an order, points, a review, a referral and an e-mail at known
instants, written as the features write their rows; and a second store with a customer of the same e-mail."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from app.extensions import db
from app.loyalty.api import credit_points
from app.messaging.models import Message
from app.records.models import Customer, Order
from app.referrals.models import Referral
from app.reviews.models import Review


def customer(store, n: int, email: str, first: str | None = None, last: str | None = None) -> Customer:
    row = Customer(
        store_id=store.id,
        platform_id=str(500 + n),
        email=email,
        email_key=email.strip().lower(),
        first_name=first,
        last_name=last,
    )
    db.session.add(row)
    db.session.flush()
    return row


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def build(store) -> Customer:
    """Ada Lovelace with one row of each kind, the order first and the e-mail last; returns her."""
    ada = customer(store, 1, "Ada.Lovelace@Example.com", "Ada", "Lovelace")
    customer(store, 2, "grace@example.com", "Grace", "Hopper")
    db.session.add(
        Order(
            store_id=store.id,
            platform_id="9001",
            name="#1001",
            customer_id=ada.id,
            currency="EUR",
            total_price=Decimal("42.50"),
            subtotal_price=Decimal("42.50"),
            placed_at=at(2),
            platform_updated_at=at(2),
        )
    )
    credit_points(db.session, store, ada.id, source_key="story:welcome", points=120, rule={}, now=at(3))
    db.session.add(
        Review(
            store_id=store.id,
            product_id="77",
            product_title="Blue Mug",
            order_platform_id="9001",
            customer_id=ada.id,
            rating=5,
            status="published",
            created_at=at(4),
        )
    )
    db.session.add(
        Referral(
            store_id=store.id,
            referrer_customer_id=ada.id,
            order_platform_id="9100",
            via="discount_code",
            status="flagged",
            reasons=["same_address"],
            currency="EUR",
            order_total=Decimal("19.99"),
            created_at=at(5),
        )
    )
    db.session.add(
        Message(
            store_id=store.id,
            customer_id=ada.id,
            template="review_request",
            locale="en",
            dedupe_key="story:1",
            status="sent",
            sent_at=at(6),
            to_address="ada.lovelace@example.com",
        )
    )
    db.session.commit()
    return ada
