"""What shoppers send the merchant: a get-help message, a low-rating alert. One row each, stored before the
shopper's answer; `store_id` scopes it, `source_key` (unique per store) makes recording idempotent.

Delivery state lives on the row: `notified_at` once its e-mails are in the outbox (`messages`, dedupe keys
`support:<id>:<n>`, one per recipient); until then `next_notify_at` says when the scheduler looks for an address
again. `status` is the merchant's: unread until handled.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.store_keys import StoreRow, store_fk
from app.platform.types import BigId, UTCDateTime, flush_after, utcnow

HELP, LOW_RATING, RECOVERY, FLAGGED_REFERRAL = "help", "low_rating", "recovery", "flagged_referral"
KINDS = (
    HELP,
    LOW_RATING,
    RECOVERY,
    FLAGGED_REFERRAL,
)  # recovery: a case the recovery programme opened (its reason in `body`)
UNREAD, HANDLED = "unread", "handled"
STATUSES = (UNREAD, HANDLED)


class SupportMessage(StoreRow, Model):
    __tablename__ = "support_messages"
    __table_args__ = (
        store_fk("customer_id", "customers", ondelete="SET NULL"),
        UniqueConstraint("store_id", "source_key"),
        # The admin list: a store's messages newest first, optionally only the unread.
        Index("ix_support_messages_store_id_status_id", "store_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    source_key: Mapped[str] = mapped_column(String(191))  # e.g. review_help:<request>:<text hash>, review:<id>
    customer_id: Mapped[int | None] = mapped_column(BigId, index=True)
    customer = flush_after("Customer", "SupportMessage.customer_id")
    order_platform_id: Mapped[str | None] = mapped_column(String(64))
    order_name: Mapped[str | None] = mapped_column(String(64))
    ref: Mapped[str | None] = mapped_column(String(64))  # what it is about in its programme, e.g. "review:42"
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    product_title: Mapped[str | None] = mapped_column(String(255))
    body: Mapped[str | None] = mapped_column(Text)  # the shopper's words: personal data, erased by customers/redact
    locale: Mapped[str | None] = mapped_column(String(16))  # the shopper's language
    status: Mapped[str] = mapped_column(String(16), default=UNREAD)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notify_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_notify_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
