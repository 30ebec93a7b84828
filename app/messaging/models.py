"""The e-mail outbox and the per-store suppression list.

A `Message` row is written in the caller's transaction (the outbox pattern)
and delivered later by a job; `dedupe_key` (unique per store) makes enqueueing
idempotent. `EmailSuppression` keeps unsubscribed addresses as SHA-256 hashes
of the normalised address, so the list holds no address in clear and survives
a customer's erasure (we must keep honouring the unsubscribe).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.types import BigId, UTCDateTime, flush_after, utcnow

QUEUED, SENDING, SENT, FAILED, CANCELLED, SUPPRESSED = "queued", "sending", "sent", "failed", "cancelled", "suppressed"
STATUSES = (QUEUED, SENDING, SENT, FAILED, CANCELLED, SUPPRESSED)
EMAIL = "email"


class Message(Model):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("store_id", "dedupe_key"),
        # The claim query: queued rows that are due.
        Index("ix_messages_status_next_attempt_at", "status", "next_attempt_at"),
        Index(  # a period's e-mails sent (the dashboard), read from the index alone
            "ix_messages_store_id_sent_at", "store_id", "sent_at", postgresql_include=["channel", "status"]
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    customer = flush_after("Customer", "Message.customer_id")
    channel: Mapped[str] = mapped_column(String(16), default=EMAIL)
    to_address: Mapped[str | None] = mapped_column(String(320))  # None once the customer is erased
    template: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(16))  # the resolved catalogue, e.g. "pl"
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # template variables; never secrets
    dedupe_key: Mapped[str] = mapped_column(String(191))
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)  # SMTP code and class only, never an address
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(String(255))  # RFC 5322 Message-ID, derived from the row
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmailSuppression(Model):
    __tablename__ = "email_suppressions"
    __table_args__ = (UniqueConstraint("store_id", "email_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    email_key: Mapped[str] = mapped_column(String(64))  # sha256 hex of the normalised address
    reason: Mapped[str] = mapped_column(String(32))  # unsubscribe | one_click | bounce | manual
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
