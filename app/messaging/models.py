"""The outbox of every channel (e-mail, SMS, WhatsApp) and the per-store suppression lists.

A `Message` row is written in the caller's transaction (the outbox pattern)
and delivered later by a job; `dedupe_key` (unique per store) makes enqueueing
idempotent. `EmailSuppression` keeps unsubscribed addresses as SHA-256 hashes
of the normalised address, so the list holds no address in clear and survives
a customer's erasure (we must keep honouring the unsubscribe).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.store_keys import StoreRow, store_fk
from app.platform.types import BigId, Money, UTCDateTime, flush_after, utcnow

QUEUED, SENDING, SENT, FAILED, CANCELLED, SUPPRESSED = "queued", "sending", "sent", "failed", "cancelled", "suppressed"
STATUSES = (QUEUED, SENDING, SENT, FAILED, CANCELLED, SUPPRESSED)
EMAIL, SMS, WHATSAPP = "email", "sms", "whatsapp"
CHANNELS = (EMAIL, SMS, WHATSAPP)
TRANSACTIONAL, MARKETING = "transactional", "marketing"
PURPOSES = (TRANSACTIONAL, MARKETING)


class Message(StoreRow, Model):
    __tablename__ = "messages"
    __table_args__ = (
        store_fk("customer_id", "customers", ondelete="SET NULL"),
        UniqueConstraint("store_id", "dedupe_key"),
        # The claim query: queued rows that are due.
        Index("ix_messages_status_next_attempt_at", "status", "next_attempt_at"),
        Index(  # a period's e-mails sent (the dashboard), read from the index alone
            "ix_messages_store_id_sent_at", "store_id", "sent_at", postgresql_include=["channel", "status"]
        ),
        Index("ix_messages_channel_provider_ref", "channel", "provider_ref"),  # a receipt finds its message
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(BigId, index=True)
    customer = flush_after("Customer", "Message.customer_id")
    channel: Mapped[str] = mapped_column(String(16), default=EMAIL)  # email | sms | whatsapp
    # transactional | marketing
    purpose: Mapped[str] = mapped_column(String(16), default=TRANSACTIONAL, server_default=TRANSACTIONAL)
    to_address: Mapped[str | None] = mapped_column(String(320))  # None once the customer is erased
    to_phone: Mapped[str | None] = mapped_column(String(16))  # E.164, SMS and WhatsApp; None once erased
    # Why a row is "suppressed" or "cancelled" ("daily_cap", "opted_out", "no_consent"...), never personal data.
    reason: Mapped[str | None] = mapped_column(String(32))
    # The provider's id of the sent message (Twilio MessageSid "SM...", WhatsApp "wamid..."): receipts find it.
    provider_ref: Mapped[str | None] = mapped_column(String(128))
    delivery_status: Mapped[str | None] = mapped_column(String(16))  # the provider's last receipt: delivered...
    cost: Mapped[Decimal | None] = mapped_column(Money)  # what the provider charged, in cost_currency
    cost_currency: Mapped[str | None] = mapped_column(String(3))
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


class EmailSuppression(StoreRow, Model):
    __tablename__ = "email_suppressions"
    __table_args__ = (UniqueConstraint("store_id", "email_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    email_key: Mapped[str] = mapped_column(String(64))  # sha256 hex of the normalised address
    reason: Mapped[str] = mapped_column(String(32))  # unsubscribe | one_click | bounce | manual
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PhoneContact(StoreRow, Model):
    """What we know of a phone number per store and channel, keyed by the SHA-256 of its E.164 form (no number in
    clear, and it survives the customer's erasure, as an opt-out must): opted out (STOP, WhatsApp's opt-out) and
    when the person last wrote to us (WhatsApp's 24-hour customer-service window)."""

    __tablename__ = "phone_contacts"
    __table_args__ = (UniqueConstraint("store_id", "channel", "phone_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    phone_key: Mapped[str] = mapped_column(String(64))
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opt_out_reason: Mapped[str | None] = mapped_column(String(32))  # the keyword class: stop | whatsapp_opt_out
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DailyCapSlot(StoreRow, Model):
    """One row per capped message a customer is sent on a local day: slot 0..cap-1 is unique per (store,
    customer, day), so two concurrent sends can never both take the last slot (no check-then-act)."""

    __tablename__ = "message_cap_slots"
    __table_args__ = (
        UniqueConstraint("store_id", "customer_id", "day", "slot"),
        store_fk("customer_id", "customers", ondelete="CASCADE"),
        store_fk("message_id", "messages", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId)
    customer = flush_after("Customer", "DailyCapSlot.customer_id")
    day: Mapped[date] = mapped_column(Date)  # in the store's time zone
    slot: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[int] = mapped_column(BigId)
    message = flush_after("Message", "DailyCapSlot.message_id")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProviderCallback(Model):
    """A signed callback from Twilio or Meta, stored before the 200 (the store webhooks' inbox pattern, without a
    store: which store it concerns is found when a worker processes it). The body is kept as received."""

    __tablename__ = "provider_callbacks"
    __table_args__ = (
        UniqueConstraint("provider", "dedupe_key"),
        Index("ix_provider_callbacks_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(16))  # twilio | whatsapp
    dedupe_key: Mapped[str] = mapped_column(String(191))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | processing | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
