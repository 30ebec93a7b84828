"""Recovery cases: one per (store, order), whatever opened it, so a customer is never compensated twice for one
order, even when two workers open a case at the same moment (the unique key decides; DESIGN.md, "Recovery").

The case is also the outbox of its coupon: `status` walks pending -> issued (the code exists in the store and the
apology is queued) -> used (an order carried the code) or reversing -> reversed (the order was refunded or
cancelled before the code was used: the coupon is deleted in the store). `failed` is a coupon the store refused.
The scheduler claims due rows (`locked_until`, `attempts`; app/platform/outbox.claim_due) and enqueues their job.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.outbox_jobs import OutboxColumns
from app.platform.store_keys import StoreRow, store_fk
from app.platform.types import BigId, Money, UTCDateTime, flush_after, utcnow

PENDING, ISSUED, USED, REVERSING, REVERSED, FAILED = "pending", "issued", "used", "reversing", "reversed", "failed"
STATUSES = (PENDING, ISSUED, USED, REVERSING, REVERSED, FAILED)
#: Why a case was opened: the programmes that may open one (a later one adds its reason here).
REASONS = ("late_parcel", "carrier_failure", "survey_detractor", "low_rating", "manual")
#: Rows the scheduler works on: a coupon to create, or one to take back.
DUE = (PENDING, REVERSING)


class RecoveryCase(StoreRow, OutboxColumns, Model):
    __tablename__ = "recovery_cases"
    __table_args__ = (
        store_fk("customer_id", "customers", ondelete="SET NULL"),
        UniqueConstraint("store_id", "order_platform_id"),  # never twice per order
        UniqueConstraint("store_id", "code"),
        Index("ix_recovery_cases_store_id_status_id", "store_id", "status", "id"),
        Index("ix_recovery_cases_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    order_platform_id: Mapped[str] = mapped_column(String(64))
    order_name: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(BigId, index=True)
    customer = flush_after("Customer", "RecoveryCase.customer_id")
    reason: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(191))  # what opened it, e.g. "fulfillment:4711", "review:42"
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    # The coupon, decided when the case opens (the store's setting then) and generated before any HTTP call,
    # so the code is the write-back's idempotency key (a retry finds it: connectors/writeback.create_discount).
    code: Mapped[str] = mapped_column(String(32))
    coupon_kind: Mapped[str] = mapped_column(String(16))  # percentage | fixed_amount
    coupon_value: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    coupon_platform_id: Mapped[str | None] = mapped_column(String(128))
    used_order_platform_id: Mapped[str | None] = mapped_column(String(64))
    # attempts, locked_until, next_attempt_at, last_error: OutboxColumns (app/platform/outbox_jobs.py)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
