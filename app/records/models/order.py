"""Orders and the resources that hang off them (refunds, fulfilments).

Refunds and fulfilments are keyed by the *platform* order id rather than a
foreign key, because their webhooks may arrive before the order's.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.store_keys import StoreRow, store_fk
from app.platform.types import BigId, Money, UTCDateTime, flush_after, utcnow


class Order(StoreRow, Model):
    __tablename__ = "orders"
    __table_args__ = (
        store_fk("customer_id", "customers", ondelete="SET NULL"),
        UniqueConstraint("store_id", "platform_id"),
        # A customer's orders in time order: their earlier orders (the dashboard's returning customers).
        Index("ix_orders_store_id_customer_id_placed_at", "store_id", "customer_id", "placed_at"),
        Index("ix_orders_store_id_placed_at", "store_id", "placed_at"),  # a period's orders (the dashboard)
        # The Overview's buyer counts: an index-only scan of the period's standing orders with a customer
        # (records/order_days.py).
        Index(
            "ix_orders_standing_chain",
            "store_id",
            "placed_at",
            postgresql_include=["prev_placed_at", "next_placed_at"],
            postgresql_where=text("customer_id IS NOT NULL AND cancelled_at IS NULL AND deleted_at IS NULL"),
            sqlite_where=text("customer_id IS NOT NULL AND cancelled_at IS NULL AND deleted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(BigId)
    customer = flush_after("Customer", "Order.customer_id")
    name: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    total_price: Mapped[Decimal] = mapped_column(Money)
    subtotal_price: Mapped[Decimal] = mapped_column(Money)
    refunded_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    financial_status: Mapped[str | None] = mapped_column(String(32))
    fulfillment_status: Mapped[str | None] = mapped_column(String(32))
    platform_status: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str | None] = mapped_column(String(16))
    discount_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    line_items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Kept for referral fraud checks (personal data, erased by customers/redact; see referrals/service).
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    phone: Mapped[str | None] = mapped_column(String(32))
    payment_fingerprint: Mapped[str | None] = mapped_column(String(64))
    referral_token: Mapped[str | None] = mapped_column(String(512))

    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    platform_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The customer's previous and next standing order (records/order_days.py keeps them; none: NULL).
    prev_placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OrderRefund(StoreRow, Model):
    __tablename__ = "order_refunds"
    __table_args__ = (
        UniqueConstraint("store_id", "platform_id"),
        Index("ix_order_refunds_store_id_order", "store_id", "order_platform_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    order_platform_id: Mapped[str] = mapped_column(String(64))
    platform_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Fulfillment(StoreRow, Model):
    __tablename__ = "fulfillments"
    __table_args__ = (
        UniqueConstraint("store_id", "platform_id"),
        Index("ix_fulfillments_store_id_order", "store_id", "order_platform_id"),
        # The late-parcel scan (app/journeys/late.py): a store's parcels whose promised delivery passed.
        Index("ix_fulfillments_store_id_estimated_delivery_at", "store_id", "estimated_delivery_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    order_platform_id: Mapped[str] = mapped_column(String(64))
    platform_id: Mapped[str] = mapped_column(String(64))
    # None until the fulfilment itself is seen (a shipment event can come first).
    status: Mapped[str | None] = mapped_column(String(32))
    shipment_status: Mapped[str | None] = mapped_column(String(32))
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    platform_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The parcel's tracking (the newest snapshot that names one) and the carrier's latest promised delivery.
    tracking_company: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    tracking_url: Mapped[str | None] = mapped_column(String(512))
    estimated_delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Every carrier status seen for the parcel, in no order (events arrive shuffled): shipment_status says only
    # the latest, and a follower that runs once per batch must still know a parcel was out for delivery.
    carrier_statuses: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderDeletion(StoreRow, Model):
    """A deletion that arrived before its order (WooCommerce's order.deleted carries only the id).

    Applied, and removed, when the order's own webhook lands; order.restored removes it too.
    """

    __tablename__ = "order_deletions"
    __table_args__ = (UniqueConstraint("store_id", "order_platform_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    order_platform_id: Mapped[str] = mapped_column(String(64))
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderDay(Model):
    """Per store, UTC day of placing and currency: the standing orders, the returning ones (their customer had an
    earlier standing order) and their revenue net of refunds in 1/10000 units. Kept by records/order_days.py."""

    __tablename__ = "order_days"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer)
    returning_orders: Mapped[int] = mapped_column(Integer)
    revenue_units: Mapped[int] = mapped_column(BigInteger)
    returning_units: Mapped[int] = mapped_column(BigInteger)
