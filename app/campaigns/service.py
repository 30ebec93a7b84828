"""Campaigns for the admin API and the CLI: create, list, preview, cancel, and each run's counts (docs/campaigns.md).
Every query is scoped to its store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from app.admin import audit
from app.campaigns import settings
from app.campaigns.models import (
    ACTIVE,
    CANCELLED,
    COUPON_PENDING,
    FAILED,
    SKIPPED_CONSENT,
    Campaign,
    CampaignRun,
    CampaignSend,
)
from app.messaging.api import SENT, SUPPRESSED, Message
from app.records.models import Customer
from app.segments import api as segments
from app.stores.models import Store


def create(session: Session, store: Store, body: Any, now: datetime) -> Campaign:
    keys = {d.key for d in segments.definitions(session, store)}
    spec = settings.validate(body, store, now, keys)
    campaign = Campaign(
        store_id=store.id, name=spec.name, segment_key=spec.segment_key, kind=spec.kind, texts=spec.texts,
        coupon=spec.coupon, every_days=spec.every_days, status=ACTIVE, next_run_at=spec.first_run, runs=0,
    )  # fmt: skip
    session.add(campaign)
    session.flush()
    audit.record(session, store, "campaign.create", str(campaign.id), {"segment": spec.segment_key, "kind": spec.kind})
    return campaign


def find(session: Session, store: Store, campaign_id: int) -> Campaign | None:
    return session.scalar(select(Campaign).where(Campaign.store_id == store.id, Campaign.id == campaign_id))


def listed(session: Session, store: Store, *, limit: int = 100) -> list[Campaign]:
    stmt = select(Campaign).where(Campaign.store_id == store.id).order_by(Campaign.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def cancel(session: Session, store: Store, campaign: Campaign, now: datetime) -> None:
    """No new run starts; a run under way stops at its next batch (sending.send_batch reads the status)."""
    if campaign.status == ACTIVE:
        campaign.status, campaign.cancelled_at, campaign.next_run_at = CANCELLED, now, None
        audit.record(session, store, "campaign.cancel", str(campaign.id))


def reachable_sql() -> Any:
    """Consent on the customer record for a marketing e-mail (the campaigns' templates are e-mail only):
    accepts marketing, an address, and no transactional opt-out. Unsubscribed addresses (kept as hashes) are
    found at send time and counted as skipped for consent (docs/campaigns.md)."""
    return and_(Customer.accepts_marketing.is_(True), Customer.email_key.is_not(None),
                Customer.email_consent.is_not(False))  # fmt: skip


def preview(session: Session, store: Store, segment_key: str, now: datetime) -> dict[str, int] | None:
    """The audience now: the segment's size and how many of them may be sent marketing, in one pass."""
    definition = segments.find(session, store, segment_key)
    if definition is None:
        return None
    members = segments.member_ids(session, store, definition, now).subquery()
    eligible = func.coalesce(func.sum(case((reachable_sql(), 1), else_=0)), 0)
    stmt = select(func.count(), eligible).select_from(Customer).join(members, members.c.id == Customer.id)
    audience, reachable = session.execute(stmt.where(Customer.store_id == store.id)).one()
    return {"audience": int(audience), "eligible": int(reachable)}


def run_counts(session: Session, store: Store, campaign: Campaign) -> list[dict[str, Any]]:
    """Per run: sent, held for quiet hours, skipped for consent, over the daily cap, failed, still pending."""
    runs = list(session.scalars(select(CampaignRun).where(CampaignRun.store_id == store.id,
                CampaignRun.campaign_id == campaign.id).order_by(CampaignRun.run)))  # fmt: skip
    if not runs:
        return []
    held = and_(Message.status == "queued", Message.next_attempt_at > CampaignSend.created_at)
    outcome = case(
        (CampaignSend.status == SKIPPED_CONSENT, "skipped_consent"),
        (CampaignSend.status == FAILED, "failed"),
        (CampaignSend.status == COUPON_PENDING, "pending"),
        (Message.status == SENT, "sent"),
        (and_(Message.status == SUPPRESSED, Message.reason == "daily_cap"), "capped"),
        (Message.status == SUPPRESSED, "skipped_consent"),
        (Message.status == "failed", "failed"),
        (held, "held_quiet_hours"),
        else_="pending",
    )
    stmt = (
        select(CampaignSend.run, outcome, func.count())
        .select_from(CampaignSend)
        .outerjoin(Message, and_(Message.store_id == CampaignSend.store_id, Message.id == CampaignSend.message_id))
        .where(CampaignSend.store_id == store.id, CampaignSend.campaign_id == campaign.id)
        .group_by(CampaignSend.run, outcome)
    )
    keys = ("sent", "held_quiet_hours", "skipped_consent", "capped", "failed", "pending")
    counts: dict[int, dict[str, int]] = {r.run: dict.fromkeys(keys, 0) for r in runs}
    for run, name, n in session.execute(stmt):
        counts[run][name] += int(n)
    return [{"run": r.run, "status": r.status, "as_of": r.as_of.isoformat(), "batches": r.batches, **counts[r.run]}
            for r in runs]  # fmt: skip
