"""Review requests (one scheduled ask per order, or per shipment) and the reviews customers leave.

`ReviewRequest` is the durable schedule: a pipeline handler keeps `due_at` in step with the order's
fulfilment and delivery dates, the scheduler claims due rows with a lease (`locked_until`, `attempts`),
and a job turns a claimed row into an outbox message. `fulfillment_key` is "" for the per-order mode
and the fulfilment's platform id in the per-shipment mode, so the unique constraint means "never more
than one request per order (or per parcel)".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.store_keys import StoreRow, store_fk
from app.platform.types import BigId, UTCDateTime, flush_after, utcnow

SCHEDULED, SENT, REMINDED, REVIEWED = "scheduled", "sent", "reminded", "reviewed"
CANCELLED, SKIPPED = "cancelled", "skipped"
REQUEST_STATUSES = (SCHEDULED, SENT, REMINDED, REVIEWED, CANCELLED, SKIPPED)
PUBLISHED, HELD, REJECTED = "published", "held", "rejected"
REVIEW_STATUSES = (PUBLISHED, HELD, REJECTED)


class ReviewRequest(StoreRow, Model):
    __tablename__ = "review_requests"
    __table_args__ = (
        store_fk("customer_id", "customers", ondelete="SET NULL"),
        UniqueConstraint("store_id", "order_platform_id", "fulfillment_key"),
        Index("ix_review_requests_store_id_customer_id", "store_id", "customer_id"),
        Index("ix_review_requests_store_id_sent_at", "store_id", "sent_at"),  # the dashboard's request rate
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    order_platform_id: Mapped[str] = mapped_column(String(64))
    fulfillment_key: Mapped[str] = mapped_column(String(64), default="")
    customer_id: Mapped[int | None] = mapped_column(BigId)
    customer = flush_after("Customer", "ReviewRequest.customer_id")
    status: Mapped[str] = mapped_column(String(16), default=SCHEDULED)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    reminder_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locale: Mapped[str | None] = mapped_column(String(16))  # the catalogue the request was written in
    reason: Mapped[str | None] = mapped_column(String(64))  # why cancelled / skipped
    follow_up: Mapped[bool] = mapped_column(Boolean, default=False)  # a low rating came back: merchant follows up
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Review(StoreRow, Model):
    __tablename__ = "reviews"
    __table_args__ = (
        store_fk("request_id", "review_requests", ondelete="SET NULL"),
        store_fk("customer_id", "customers", ondelete="SET NULL"),
        UniqueConstraint("store_id", "order_platform_id", "product_id"),
        Index("ix_reviews_store_id_product_id_status", "store_id", "product_id", "status"),
        # The dashboard: a period's reviews (from the index alone), and whether a request brought one.
        Index("ix_reviews_store_id_created_at", "store_id", "created_at", postgresql_include=["rating"]),
        Index("ix_reviews_request_id", "request_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    request_id: Mapped[int | None] = mapped_column(BigId)
    request = flush_after("ReviewRequest", "Review.request_id")
    product_id: Mapped[str] = mapped_column(String(64))
    product_title: Mapped[str | None] = mapped_column(String(255))
    order_platform_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(BigId)
    customer = flush_after("Customer", "Review.customer_id")
    rating: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    photos: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{"key", "content_type", "size"}]
    display_name: Mapped[str | None] = mapped_column(String(80))
    locale: Mapped[str | None] = mapped_column(String(16))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)  # came through a link naming the order
    status: Mapped[str] = mapped_column(String(16), default=HELD)
    moderation_reason: Mapped[str | None] = mapped_column(String(64))
    merchant_reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by the write-back (app/reviews/publishing_tasks.py): WooCommerce review created / Shopify rating written.
    published_to_platform_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # WooCommerce: the product review's id at the store (created once per Review row). None on Shopify.
    platform_review_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
