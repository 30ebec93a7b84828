"""The survey table: one request per order (unique), its answer stored once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.store_keys import StoreRow, store_fk
from app.platform.types import BigId, UTCDateTime, flush_after, utcnow

SCHEDULED, SENT, ANSWERED, CANCELLED = "scheduled", "sent", "answered", "cancelled"
PROMOTER, PASSIVE, DETRACTOR = "promoter", "passive", "detractor"


class SurveyRequest(StoreRow, Model):
    __tablename__ = "survey_requests"
    __table_args__ = (
        store_fk("customer_id", "customers", ondelete="SET NULL"),
        UniqueConstraint("store_id", "order_platform_id"),
        Index("ix_survey_requests_status_due_at", "status", "due_at"),  # the scheduler's claim
        Index("ix_survey_requests_store_id_answered_at", "store_id", "answered_at"),  # results per period
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    order_platform_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(BigId)
    customer = flush_after("Customer", "SurveyRequest.customer_id")
    kind: Mapped[str] = mapped_column(String(8))  # nps | csat, fixed when scheduled
    status: Mapped[str] = mapped_column(String(16), default=SCHEDULED)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locale: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[int | None] = mapped_column(Integer)
    group: Mapped[str | None] = mapped_column(String(16))  # promoter | passive | detractor
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(32))  # why cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
