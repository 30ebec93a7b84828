"""The per-store record of one customer, guests included."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.store_keys import StoreRow
from app.platform.types import BigId, Money, UTCDateTime, utcnow


class Customer(StoreRow, Model):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("store_id", "platform_id"),
        UniqueConstraint("store_id", "email_key"),
        # Segments (app/segments): the store's rhythm samples its latest repeat customers, lifecycle pages by recency.
        Index("ix_customers_store_id_last_order_at", "store_id", "last_order_at"),
        # The points liability (loyalty/report.py): the few customers in another currency than the store's.
        Index("ix_customers_store_id_currency", "store_id", "currency", postgresql_include=["id"]),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True, index=True)
    platform_id: Mapped[str | None] = mapped_column(String(64))  # None: a guest, known by email
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(191))  # normalised email, the guest key
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str | None] = mapped_column(String(16))
    accepts_marketing: Mapped[bool | None] = mapped_column(Boolean)
    # Consent to the store's transactional follow-up e-mail (review requests, points, referrals),
    # distinct from marketing: False suppresses it, None (never asked) allows it. See app/messaging.
    email_consent: Mapped[bool | None] = mapped_column(Boolean)
    # The phone as E.164 ("+48601234567"), validated (app/records/phones.py); None when the number is unusable.
    phone_e164: Mapped[str | None] = mapped_column(String(16))
    # Per channel and purpose (app/messaging/routing.py): transactional SMS needs a phone and no False here;
    # marketing SMS needs sms_marketing_consent True (Shopify sms_marketing_consent "subscribed", a Woo opt-in);
    # WhatsApp needs whatsapp_consent True (Meta's opt-in rule), for marketing whatsapp_marketing_consent too.
    sms_consent: Mapped[bool | None] = mapped_column(Boolean)
    sms_marketing_consent: Mapped[bool | None] = mapped_column(Boolean)
    whatsapp_consent: Mapped[bool | None] = mapped_column(Boolean)
    whatsapp_marketing_consent: Mapped[bool | None] = mapped_column(Boolean)
    preferred_channel: Mapped[str | None] = mapped_column(String(16))  # email | sms | whatsapp, a store's opt-in
    # Segment conditions (docs/segments.md): the ISO 3166-1 alpha-2 country of the default (Shopify) or billing
    # address, and the merchant's customer tags (Shopify only), case-folded, as ",tag one,tag two," so that "has
    # tag" is one LIKE on both databases (tags never contain a comma: Shopify splits on it). None: never said.
    country: Mapped[str | None] = mapped_column(String(2))
    tags: Mapped[str | None] = mapped_column(Text)
    # When the details were last set, and whether by an account snapshot (which
    # always outranks details copied from a guest order's billing address).
    platform_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    details_from_account: Mapped[bool] = mapped_column(Boolean, default=False)

    # Aggregates, recomputed from this customer's orders (never incremented),
    # so replays and out-of-order deliveries converge on the same values.
    orders_count: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str | None] = mapped_column(String(3))
    total_spent: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    total_refunded: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    spent_by_currency: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def is_guest(self) -> bool:
        return self.platform_id is None


def tags_text(tags: tuple[str, ...] | None) -> str | None:
    """Tags as the `tags` column holds them: ",a,b," ("" for none, None when the platform did not say)."""
    if tags is None:
        return None
    return f",{','.join(tags)}," if tags else ""


def tag_list(text: str | None) -> list[str]:
    return [t for t in (text or "").split(",") if t]


def normalise_email(email: str | None) -> str | None:
    """Case-folded, trimmed email: the key a guest is known by.

    Dots and plus-tags are *not* removed here (they are distinct mailboxes on
    most providers); referral fraud checks normalise further on their own.
    """
    if not email:
        return None
    key = email.strip().lower()
    if "@" not in key or len(key) > 191:
        return None
    return key
