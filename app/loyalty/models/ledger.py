"""The loyalty points ledger and the per-customer cache of its sums.

`points_ledger` is append-only for amounts: a row's `points` is never updated or
deleted. A correction is a new row with its own source key, so the history
explains every balance and a replay can never double-count (the unique source
key per store refuses a second row for the same fact). Two columns are *not*
amounts and may move later:
- `available_at` is a schedule (when a positive row becomes spendable), set
  once the order is delivered or fulfilled and moved if those dates move;
- `customer_id` follows the customer when a guest is merged into an account.

`loyalty_accounts` caches the sums per customer. It is recomputed from the rows
(never incremented) in the same transaction as any ledger write, so
cached balance == sum of rows always holds (loyalty.ledger.check_invariants).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.store_keys import StoreRow, store_fk
from app.platform.types import BigId, UTCDateTime, flush_after, utcnow

KINDS = ("earn", "reverse", "redeem", "redeem_release", "action", "expire", "adjust", "tier_reward")


class PointsLedger(StoreRow, Model):
    __tablename__ = "points_ledger"
    __table_args__ = (
        store_fk("customer_id", "customers", ondelete="CASCADE"),
        UniqueConstraint("store_id", "source_key"),
        Index("ix_points_ledger_store_id_order", "store_id", "order_platform_id"),
        Index("ix_points_ledger_store_id_customer", "store_id", "customer_id"),
        # the scheduler's "became spendable since the last tick" scan
        Index("ix_points_ledger_store_id_available_at", "store_id", "available_at"),
        Index(  # a period's rows (the dashboard), read from the index alone
            "ix_points_ledger_store_id_created_at", "store_id", "created_at", postgresql_include=["kind", "points"]
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId)
    customer = flush_after("Customer", "PointsLedger.customer_id")
    source_key: Mapped[str] = mapped_column(String(191))
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(Integer)
    order_platform_id: Mapped[str | None] = mapped_column(String(64))
    rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    available_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointsDay(Model):
    """Per store and UTC day of the rows' created_at: the points given (earn, action, tier_reward, positive
    adjustments) and redeemed net of holds given back. Recounted from the rows by loyalty/points_days.py."""

    __tablename__ = "points_days"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    issued: Mapped[int] = mapped_column(BigInteger)
    redeemed: Mapped[int] = mapped_column(BigInteger)


class LoyaltyAccount(StoreRow, Model):
    __tablename__ = "loyalty_accounts"
    __table_args__ = (
        store_fk("customer_id", "customers", ondelete="CASCADE"),
        UniqueConstraint("store_id", "customer_id"),
        Index("ix_loyalty_accounts_store_id_expires_at", "store_id", "expires_at"),
        # the scheduler's "qualifying window ended" scan (loyalty/tiers.py)
        Index("ix_loyalty_accounts_store_id_tier_expires_at", "store_id", "tier_expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId)
    customer = flush_after("Customer", "LoyaltyAccount.customer_id")
    balance: Mapped[int] = mapped_column(Integer, default=0)
    pending: Mapped[int] = mapped_column(Integer, default=0)
    spendable: Mapped[int] = mapped_column(Integer, default=0)  # as of refreshed_at
    held: Mapped[int] = mapped_column(Integer, default=0)  # a guest's would-be spendable points
    lifetime_earned: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the spendable balance expires for inactivity (None: nothing to expire, or expiry off),
    # and when the reminder is due; the e-mail feature sends it.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tier: Mapped[str | None] = mapped_column(String(64))
    # When the tier was reached, and when its qualifying window ends (None: a lifetime tier, or no tier):
    # the tier is re-qualified then, and only then can it go down.
    tier_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tier_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LoyaltyStoreState(StoreRow, Model):
    """Per-store scheduler watermark: earn rows with available_at up to here are reflected in the caches."""

    __tablename__ = "loyalty_store_state"
    __table_args__ = (UniqueConstraint("store_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    available_watermark: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LoyaltyTierChange(StoreRow, Model):
    """History of a customer's tier: every upgrade, downgrade and renewal, with the figures it was decided on."""

    __tablename__ = "loyalty_tier_changes"
    __table_args__ = (
        Index("ix_loyalty_tier_changes_store_id_customer", "store_id", "customer_id"),
        store_fk("customer_id", "customers", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId)
    customer = flush_after("Customer", "LoyaltyTierChange.customer_id")
    from_tier: Mapped[str | None] = mapped_column(String(64))
    to_tier: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(16))  # upgrade | downgrade | renewed | removed
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # decimals as strings
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
