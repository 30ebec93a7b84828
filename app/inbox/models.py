"""The durable inbox: every acknowledged webhook delivery, stored before the 200.

A row is the raw bytes exactly as signed, so it can be re-verified and
re-parsed after a bug fix. `dedupe_key` is unique per store, which is how a
retried or duplicated delivery is recognised at the door.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.store_keys import StoreRow
from app.platform.types import BigId, UTCDateTime, utcnow

PENDING, PROCESSING, DONE, FAILED = "pending", "processing", "done", "failed"


class WebhookDelivery(StoreRow, Model):
    __tablename__ = "webhook_inbox"
    __table_args__ = (
        UniqueConstraint("store_id", "dedupe_key"),
        # The claim query: pending rows, oldest first.
        Index("ix_webhook_inbox_status_id", "status", "id"),
        # The fair claim's per-store probes (inbox/claim.py): a store's pending rows, oldest first; pending only,
        # so it stays the size of the backlog, not of the table.
        Index(
            "ix_webhook_inbox_pending_store",
            "store_id",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(64))
    dedupe_key: Mapped[str] = mapped_column(String(191))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
