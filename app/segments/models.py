"""The segments' tables: the merchant's own segments, and each store's purchase rhythm the lifecycle segments use."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.store_keys import StoreRow
from app.platform.types import BigId, Money, UTCDateTime, utcnow


class Segment(StoreRow, Model):
    """A merchant-defined segment: a name and conditions over the customer record (segments/conditions.py)."""

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("store_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SegmentRhythm(Model):
    """A store's purchase rhythm: the median days between a repeat customer's orders, and the spend a VIP reaches
    (the top 5% of customers in the store's currency). Recomputed daily by a set-based query (segments/rhythm.py);
    membership itself is never stored, so it cannot go stale (segments/lifecycle.py)."""

    __tablename__ = "segment_rhythms"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    interval_days: Mapped[int] = mapped_column(Integer)
    repeat_customers: Mapped[int] = mapped_column(Integer, default=0)
    vip_currency: Mapped[str | None] = mapped_column(String(3))
    vip_spend: Mapped[Decimal | None] = mapped_column(Money)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
