"""One batch of a run: who gets the message, and the message (docs/campaigns.md, "Exactly once").

For each member of the segment in the batch's id range (evaluated at the run's as_of):
- a recurring campaign sends only to a customer who entered the segment since the last run (absent from it then)
  or was never sent this campaign (CampaignMember); a one-off sends to every member;
- consent first: a customer with no channel for marketing is recorded "skipped_consent" and nothing is spent on
  them (no coupon);
- the send row is inserted under its unique key (store, campaign, run, customer) before anything is sent: a
  duplicated or retried batch job finds it taken and does nothing for that customer (never check-then-act);
- then the message through messaging's send_to_customer (purpose marketing: the channel's marketing consent,
  quiet hours hold it, the daily cap applies), or, for a win-back, a coupon job first (coupons.py).
The batch is marked done in the same transaction as its sends.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.campaigns.models import (
    CANCELLED,
    COUPON_PENDING,
    DONE,
    PENDING,
    QUEUED,
    SKIPPED_CONSENT,
    TEMPLATES,
    Campaign,
    CampaignBatch,
    CampaignMember,
    CampaignRun,
    CampaignSend,
)
from app.messaging.api import MARKETING, choose_channel, resolve_locale, send_to_customer
from app.platform.sql import get_in_store, get_one_in_store, insert_row
from app.records.models import Customer
from app.segments import api as segments
from app.stores.models import Store

log = logging.getLogger(__name__)
#: A coupon send is enqueued at once by its batch; the scheduler claims it only after this (a lost enqueue).
COUPON_LEASE = timedelta(minutes=10)
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U: read aloud or typed from a phone


def new_code() -> str:
    return "BACK-" + "".join(secrets.choice(ALPHABET) for _ in range(10))


def coupon_ends(campaign: Campaign, send: CampaignSend) -> datetime:
    return send.created_at + timedelta(days=int((campaign.coupon or {}).get("expires_days", 30)))


def dedupe_key(send: CampaignSend) -> str:
    return f"campaign:{send.campaign_id}:{send.run}:{send.customer_id}"


def context(campaign: Campaign, customer: Customer, store: Store, send: CampaignSend) -> tuple[dict[str, Any], str]:
    """The template's context and the locale it is written in."""
    locale = resolve_locale(customer.locale, (store.settings or {}).get("locale"))
    if campaign.kind == "text":
        default = resolve_locale((store.settings or {}).get("locale"))
        texts = campaign.texts.get(locale) or campaign.texts[default]
        locale = locale if locale in campaign.texts else default
        return {"subject": texts["subject"], "body": texts["body"]}, locale
    values: dict[str, Any] = {"first_name": customer.first_name}
    if campaign.kind == "win_back" and campaign.coupon:
        values |= {"code": send.code, "kind": campaign.coupon["kind"], "value": campaign.coupon["value"],
                   "currency": campaign.coupon.get("currency"),
                   "expires_at": coupon_ends(campaign, send).date().isoformat()}  # fmt: skip
    return values, locale


def queue_message(session: Session, store: Store, campaign: Campaign, customer: Customer, send: CampaignSend) -> None:
    values, locale = context(campaign, customer, store, send)
    message = send_to_customer(
        session, store, customer_id=customer.id, template=TEMPLATES[campaign.kind], context=values,
        dedupe_key=dedupe_key(send), purpose=MARKETING, locale=locale, capped=True, urgent=False,
    )  # fmt: skip
    send.status, send.message_id = QUEUED, message.id


def _eligible(session: Session, store: Store, campaign: Campaign, run: int, customer_id: int,
              memory: dict[int, CampaignMember]) -> bool:  # fmt: skip
    """A recurring campaign's rule, and its memory of this run's members updated."""
    row = memory.get(customer_id)
    if row is None:
        row = CampaignMember(campaign_id=campaign.id, customer_id=customer_id, store_id=store.id, seen_run=run)
        if insert_row(session, row):
            memory[customer_id] = row
            return True
        row = session.get_one(CampaignMember, (campaign.id, customer_id, store.id))  # a twin batch inserted it just now
        memory[customer_id] = row
    if row.seen_run >= run:
        return row.sent_run == run  # decided in this run already; the send row's key decides the rest
    entered = row.seen_run < run - 1
    row.seen_run = run
    return entered or row.sent_run is None


def send_batch(
    session: Session, batch_id: int, store_id: int, attempt: int | None, now: datetime
) -> tuple[dict[str, int], list[int]]:
    """Work one batch; the caller commits. Counts of what it did, and the sends whose coupon is to be made."""
    batch = get_in_store(session, CampaignBatch, batch_id, store_id, for_update=True)
    if batch is None or batch.status != PENDING or (attempt is not None and batch.attempts != attempt):
        return {}, []
    store = session.get_one(Store, batch.store_id)
    run = get_one_in_store(session, CampaignRun, batch.run_id, store.id)
    campaign = get_one_in_store(session, Campaign, run.campaign_id, store.id)
    definition = segments.find(session, store, campaign.segment_key)
    batch.status, batch.locked_until = DONE, None
    if campaign.status == CANCELLED or definition is None:
        return {"cancelled": 1}, []
    members = segments.member_ids(session, store, definition, run.as_of).where(
        Customer.id.between(batch.first_id, batch.last_id))  # fmt: skip
    customers = list(session.scalars(select(Customer).where(Customer.store_id == store.id, Customer.id.in_(
        members.scalar_subquery())).order_by(Customer.id)))  # fmt: skip
    memory: dict[int, CampaignMember] = {}
    recurring = campaign.every_days is not None
    if recurring:
        rows = session.scalars(select(CampaignMember).where(
            CampaignMember.store_id == store.id, CampaignMember.campaign_id == campaign.id,
            CampaignMember.customer_id.in_([c.id for c in customers])))  # fmt: skip
        memory = {m.customer_id: m for m in rows}
    counts = {"queued": 0, "coupons": 0, "skipped_consent": 0, "not_eligible": 0, "already": 0}
    template = TEMPLATES[campaign.kind]
    coupon_sends: list[CampaignSend] = []
    for customer in customers:
        if recurring and not _eligible(session, store, campaign, run.run, customer.id, memory):
            counts["not_eligible"] += 1
            continue
        channel = choose_channel(session, store, customer, MARKETING, template)
        coupon = campaign.kind == "win_back" and channel is not None
        status = SKIPPED_CONSENT if channel is None else COUPON_PENDING if coupon else QUEUED
        send = CampaignSend(store_id=store.id, campaign_id=campaign.id, run=run.run, customer_id=customer.id,
                            status=status, code=new_code() if coupon else None, attempts=0,
                            next_attempt_at=now if coupon else None, created_at=now,
                            locked_until=now + COUPON_LEASE if coupon else None)  # fmt: skip
        if not insert_row(session, send):  # this customer's send in this run exists: a twin batch did it
            counts["already"] += 1
            continue
        if channel is None:
            counts["skipped_consent"] += 1
            continue
        if recurring:
            memory[customer.id].sent_run = run.run
        if coupon:
            coupon_sends.append(send)
            counts["coupons"] += 1  # the coupon job (coupons.py) makes it in the store, then queues the message
        else:
            queue_message(session, store, campaign, customer, send)
            counts["queued"] += 1
    log.info("campaigns.batch_sent", extra={"store_id": store.id, "campaign_id": campaign.id, "run": run.run,
                                            **counts})  # fmt: skip
    return counts, [s.id for s in coupon_sends]
