"""The review write-back outbox: one row per (store, product) whose published reviews must reach the store.

A row is made dirty (status `pending`, `due_at` now, `version` + 1) whenever a review of the product is
published, unpublished (rejected after publishing) or replied to. The per-store job
(app/reviews/publishing_tasks.py) drains due rows; it marks a row `done` only if `version` is still the one it
read, so a change made while the job talked to the store is never lost. Transient failures push `due_at`
(backoff, or the platform's retry wait) and count `attempts`; permanent ones park the row as `failed` with
`last_error`, which the admin API shows. `stopped`: the store uninstalled us.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.store_keys import StoreRow
from app.platform.types import BigId, UTCDateTime, utcnow

PENDING, DONE, FAILED, STOPPED = "pending", "done", "failed", "stopped"
PUBLICATION_STATUSES = (PENDING, DONE, FAILED, STOPPED)


class ReviewPublication(StoreRow, Model):
    __tablename__ = "review_publications"
    __table_args__ = (
        UniqueConstraint("store_id", "product_id"),
        Index("ix_review_publications_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped by every change of the product's reviews
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed attempts since the last success
    last_error: Mapped[str | None] = mapped_column(Text)  # an error class or platform code: never a payload
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last successful write-back
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
