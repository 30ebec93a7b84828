"""The referral programme: a customer's code, the friends who landed through it, and the referrals it earned.

- `ReferralCode`: one per customer per store (guests included, by their customer row); short, readable, random.
- `ReferralInvite`: one friend's visit through a share link (the landing token) and the friend's single-use
  discount code, created at the store by a job (`discount_status`); one per friend: keyed by the landing token,
  and by the friend's e-mail hash when they give it.
- `Referral`: a friend's first paid order attributed to a referrer (unique per order), its fraud reasons, the
  merchant's decision, and the referrer's reward (points row key `referral:<id>:reward`, or a discount code).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.store_keys import StoreRow, store_fk
from app.platform.types import BigId, Money, UTCDateTime, flush_after, utcnow

# Referral.status
PENDING = "pending"  # attributed, waiting for the friend's order to pass the return window
QUALIFIED = "qualified"  # past the window; the reward is being issued (a discount code's write-back job)
REWARDED = "rewarded"
VOID = "void"  # refunded, cancelled, deleted, or not the friend's first order
FLAGGED = "flagged"  # a fraud check matched: waits for the merchant (approve -> pending, reject -> rejected)
REJECTED = "rejected"
STATUSES = (PENDING, QUALIFIED, REWARDED, VOID, FLAGGED, REJECTED)


class ReferralCode(StoreRow, Model):
    __tablename__ = "referral_codes"
    __table_args__ = (
        UniqueConstraint("store_id", "customer_id"),
        UniqueConstraint("store_id", "code"),
        store_fk("customer_id", "customers", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId)
    customer = flush_after("Customer", "ReferralCode.customer_id")
    code: Mapped[str] = mapped_column(String(16))
    # Keyed hashes of the owner's last storefront request (IP, user agent): a landing from the same device
    # is the referrer clicking their own link.
    owner_ip_hash: Mapped[str | None] = mapped_column(String(64))
    owner_ua_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReferralInvite(StoreRow, Model):
    __tablename__ = "referral_invites"
    __table_args__ = (
        store_fk("referral_code_id", "referral_codes", ondelete="CASCADE"),
        UniqueConstraint("store_id", "token"),
        UniqueConstraint("store_id", "discount_code"),
        UniqueConstraint("store_id", "referral_code_id", "friend_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    referral_code_id: Mapped[int] = mapped_column(BigId)
    referral_code = flush_after("ReferralCode", "ReferralInvite.referral_code_id")
    token: Mapped[str] = mapped_column(String(32))  # the random part of the signed landing token
    friend_key: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the friend's normalised e-mail
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    ua_hash: Mapped[str | None] = mapped_column(String(64))
    discount_code: Mapped[str] = mapped_column(String(32))
    discount_status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | created | failed
    discount_platform_id: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Referral(StoreRow, Model):
    __tablename__ = "referrals"
    __table_args__ = (
        store_fk("referrer_customer_id", "customers", ondelete="CASCADE"),
        store_fk("friend_customer_id", "customers", ondelete="SET NULL"),
        store_fk("invite_id", "referral_invites", ondelete="SET NULL"),
        UniqueConstraint("store_id", "order_platform_id"),
        Index("ix_referrals_store_id_status_due", "store_id", "status", "reward_due_at"),
        Index("ix_referrals_store_id_referrer", "store_id", "referrer_customer_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    referrer_customer_id: Mapped[int] = mapped_column(BigId)
    referrer_customer = flush_after("Customer", "Referral.referrer_customer_id")
    friend_customer_id: Mapped[int | None] = mapped_column(BigId)
    friend_customer = flush_after("Customer", "Referral.friend_customer_id")
    invite_id: Mapped[int | None] = mapped_column(BigId)
    invite = flush_after("ReferralInvite", "Referral.invite_id")
    order_platform_id: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(16))  # discount_code | landing_token
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    order_total: Mapped[Decimal] = mapped_column(Money)
    reward_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reward: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # type, points / code, platform id, status
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rewarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
