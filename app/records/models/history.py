"""The history import of a store: what the merchant chose, how far it got, where to resume (docs/history-import.md).

One row per store. `cutoff_at` splits the store's orders into past (placed before it: imported history) and
present; the followers read it (records/history.py), so an order placed before it never gets a review request
or a referral, whichever path recorded it (the import or a webhook), and earns points only when the merchant
chose so. `cursor` is where a restarted import goes on from: it is written in the transaction that applies the
chunk it names, so no chunk is applied twice or skipped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.store_keys import StoreRow
from app.platform.types import UTCDateTime, utcnow

#: queued -> running -> done | failed | waiting (a Shopify bulk query still running); any but done is resumed
#: from its cursor.
STATUSES = ("queued", "running", "waiting", "done", "failed")
PHASES = ("customers", "orders", "finished")


class HistoryImport(StoreRow, Model):
    __tablename__ = "history_imports"
    __table_args__ = (UniqueConstraint("store_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    # The merchant's choices, fixed when the import starts.
    earn_points: Mapped[bool] = mapped_column(Boolean, default=False)
    tiers_from_past: Mapped[bool] = mapped_column(Boolean, default=False)
    cutoff_at: Mapped[datetime] = mapped_column(UTCDateTime)
    phase: Mapped[str] = mapped_column(String(16), default="customers")
    # Per platform: Shopify {"operation": gid, "url": ..., "line": n}, WooCommerce {"page": n}.
    cursor: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    customers_total: Mapped[int | None] = mapped_column(Integer)
    customers_done: Mapped[int] = mapped_column(Integer, default=0)
    orders_total: Mapped[int | None] = mapped_column(Integer)
    orders_done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)  # documents that did not parse or apply (logged)
    last_error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
