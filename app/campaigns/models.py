"""Campaigns' tables (docs/campaigns.md): the campaign, each run of it, the run's batches (the fan-out's outbox) and
one send row per customer per run, whose unique key is what makes a send happen once under duplicated jobs.

Run -> batches -> sends: the scheduler starts a due run (unique (campaign_id, run)); a fan-out job walks the
segment by customer id and writes one batch per BATCH_SIZE members (a keyset cursor on the run, advanced in the
same transaction as the batch row: resumable); each batch is a job that sends to its members. No job and no
transaction ever holds the whole audience.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.outbox_jobs import OutboxColumns
from app.platform.store_keys import StoreRow, store_fk
from app.platform.types import BigId, Money, UTCDateTime, flush_after, utcnow

ACTIVE, CANCELLED, FINISHED = "active", "cancelled", "finished"
#: A run: its members being walked (fanning), every batch written (fanned), every batch worked (done).
FANNING, FANNED, DONE = "fanning", "fanned", "done"
#: A batch, and a send: what happened to one customer in one run.
PENDING = "pending"
SKIPPED_CONSENT, COUPON_PENDING, QUEUED, FAILED = "skipped_consent", "coupon_pending", "queued", "failed"
TEMPLATES = {"win_back": "campaign_win_back", "thanks": "campaign_thanks", "text": "campaign_text"}


class Campaign(StoreRow, Model):
    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_status_next_run_at", "status", "next_run_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True, index=True)
    name: Mapped[str] = mapped_column(String(120))
    segment_key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # a TEMPLATES key
    # kind "text": {locale: {"subject", "body"}}; win_back: the coupon {"kind", "value", "currency", "expires_days"}
    texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    coupon: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    every_days: Mapped[int | None] = mapped_column(Integer)  # None: one-off
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    runs: Mapped[int] = mapped_column(Integer, default=0)  # the last run's number
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CampaignRun(StoreRow, Model):
    __tablename__ = "campaign_runs"
    __table_args__ = (
        store_fk("campaign_id", "campaigns", ondelete="CASCADE"),
        UniqueConstraint("store_id", "campaign_id", "run"),  # a due run started once, however many schedulers tick
        Index("ix_campaign_runs_status_locked_until", "status", "locked_until"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True, index=True)
    campaign_id: Mapped[int] = mapped_column(BigId)
    campaign = flush_after("Campaign", "CampaignRun.campaign_id")
    run: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)  # the "now" its segment is evaluated at
    status: Mapped[str] = mapped_column(String(16), default=FANNING)
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)  # the last customer id put in a batch
    batches: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CampaignBatch(StoreRow, Model):
    """Members first_id..last_id (customer ids) of one run: one job's work, claimed like an outbox row."""

    __tablename__ = "campaign_batches"
    __table_args__ = (
        store_fk("run_id", "campaign_runs", ondelete="CASCADE"),
        UniqueConstraint("store_id", "run_id", "first_id"),  # a duplicated fan-out step writes its batch once
        Index("ix_campaign_batches_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True, index=True)
    run_id: Mapped[int] = mapped_column(BigId)
    run_row = flush_after("CampaignRun", "CampaignBatch.run_id")
    first_id: Mapped[int] = mapped_column(BigInteger)
    last_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CampaignSend(StoreRow, OutboxColumns, Model):
    """One customer in one run: inserted before anything is sent; the unique key is the "once"."""

    __tablename__ = "campaign_sends"
    __table_args__ = (
        store_fk("campaign_id", "campaigns", ondelete="CASCADE"),
        store_fk("customer_id", "customers", ondelete="CASCADE"),
        UniqueConstraint("store_id", "campaign_id", "run", "customer_id"),
        UniqueConstraint("store_id", "code"),
        Index("ix_campaign_sends_campaign_id_run_status", "campaign_id", "run", "status"),
        Index("ix_campaign_sends_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigId)
    campaign = flush_after("Campaign", "CampaignSend.campaign_id")
    run: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(BigId, index=True)
    customer = flush_after("Customer", "CampaignSend.customer_id")
    status: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    # The win-back coupon: drawn before the store is called (the write-back's idempotency key), then what the
    # store answered (its spelling of the code, its id).
    code: Mapped[str | None] = mapped_column(String(32))
    coupon_value: Mapped[Decimal | None] = mapped_column(Money)
    coupon_platform_id: Mapped[str | None] = mapped_column(String(128))
    # attempts, locked_until, next_attempt_at, last_error: OutboxColumns (app/platform/outbox_jobs.py)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignMember(Model):
    """A recurring campaign's memory of a customer: the last run that saw them in the segment and the last that
    sent to them. "Entered since the last run" is seen_run < run - 1 (absent from the previous run)."""

    __tablename__ = "campaign_members"
    __table_args__ = (
        store_fk("campaign_id", "campaigns", ondelete="CASCADE"),
        store_fk("customer_id", "customers", ondelete="CASCADE"),
    )

    campaign_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign = flush_after("Campaign", "CampaignMember.campaign_id")
    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer = flush_after("Customer", "CampaignMember.customer_id")
    # In the key: a distributed PostgreSQL needs the tenant in every primary key (tests/distribution.py).
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True, index=True)
    seen_run: Mapped[int] = mapped_column(Integer)
    sent_run: Mapped[int | None] = mapped_column(Integer)
