"""Repeat-customer surprises: one row per (store, customer, threshold), whatever happens, so a customer is never
surprised twice for their Nth order, even when two workers decide at the same moment (the unique key decides;
DESIGN.md, "Repeat-customer surprises"; docs/surprises.md).

The row is the decision and the outbox of its delivery: `status` walks pending -> issued (the code exists in the
store or the points are in the ledger, and the message is queued) -> used (an order carried the code), or
reversing -> reversed (the order that earned it was cancelled, deleted or fully refunded before the code was used:
the code is deleted in the store, the points taken back). `skipped` is a decision not to surprise (the customer was
not in the threshold's segment, the Nth order was paid before the programme started): final, like a surprise.
`failed` is a code the store refused. The scheduler claims due rows (`locked_until`, `attempts`;
app/platform/outbox.claim_due) and enqueues their job (tasks.py).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.outbox_jobs import OutboxColumns
from app.platform.store_keys import StoreRow, store_fk
from app.platform.types import BigId, Money, UTCDateTime, flush_after, utcnow

PENDING, ISSUED, USED, REVERSING, REVERSED = "pending", "issued", "used", "reversing", "reversed"
FAILED, SKIPPED = "failed", "skipped"
STATUSES = (PENDING, ISSUED, USED, REVERSING, REVERSED, FAILED, SKIPPED)
#: Rows the scheduler works on: a surprise to deliver, or one to take back.
DUE = (PENDING, REVERSING)
#: What a threshold gives: a code for the next order (a percentage or an amount off, or free shipping), or points.
KINDS = ("percentage", "fixed_amount", "free_shipping", "points")
#: The kinds delivered as a code the store creates.
CODED = ("percentage", "fixed_amount", "free_shipping")
#: Why a threshold was decided without a surprise.
SKIP_REASONS = ("past_order", "before_start", "order_not_standing", "segment")


class Surprise(StoreRow, OutboxColumns, Model):
    __tablename__ = "surprises"
    __table_args__ = (
        store_fk("customer_id", "customers", ondelete="SET NULL"),
        UniqueConstraint("store_id", "customer_id", "threshold"),  # exactly once per customer and threshold
        UniqueConstraint("store_id", "code"),
        Index("ix_surprises_store_id_order", "store_id", "order_platform_id"),
        Index("ix_surprises_store_id_status_id", "store_id", "status", "id"),
        Index("ix_surprises_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    # SET NULL, not CASCADE: a guest merged into an account that already had this threshold keeps its row (the
    # code it holds is real) without a customer (service.move_guest).
    customer_id: Mapped[int | None] = mapped_column(BigId)
    customer = flush_after("Customer", "Surprise.customer_id")
    threshold: Mapped[int] = mapped_column(Integer)  # the customer's Nth paid, standing order
    order_platform_id: Mapped[str] = mapped_column(String(64))  # the Nth order: the one that earned it
    order_name: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    skip_reason: Mapped[str | None] = mapped_column(String(32))
    # What it gives, decided with the row (the store's setting then). The code is drawn before any HTTP call, so
    # it is the write-back's idempotency key (connectors look it up first: one code whatever the retries).
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    currency: Mapped[str | None] = mapped_column(String(3))
    points: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    code_platform_id: Mapped[str | None] = mapped_column(String(128))
    used_order_platform_id: Mapped[str | None] = mapped_column(String(64))
    # attempts, locked_until, next_attempt_at, last_error: OutboxColumns (app/platform/outbox_jobs.py)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
