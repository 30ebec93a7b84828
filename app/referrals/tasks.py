"""Referral jobs and the scheduler step.

- tick(app, now=None): per active store, under the store lock, rewards the referrals whose friend's order
  passed the return window (referrals/orders.issue_reward), and re-enqueues discount write-backs
  that are still pending after STALE (a lost enqueue: Redis was down when the landing was served).
- create_friend_discount(invite_id) / create_reward_discount(referral_id): create the code at the store
  through the store's client (app/stores/clients.client_for(store).create_discount: Shopify
  discountCodeBasicCreate / WooCommerce coupon). Both look the code up first, and the code was stored before the
  job ran, so a retry after a timeout never makes a second code. Transient errors (timeouts, throttling) are
  recorded and re-raised for RQ's retry; a refusal is `failed`; a store we cannot call (NotConnected) raises.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Flask
from rq import Retry
from sqlalchemy import CompoundSelect, select, union

from app.extensions import db
from app.platform.jobs import job_app
from app.platform.locks import lock_store
from app.platform.logs import reason
from app.platform.queue import get_queue
from app.platform.sql import get_in_store, get_one_in_store, job_store_id
from app.platform.types import utcnow
from app.records.models import Customer
from app.referrals.models import PENDING, QUALIFIED, Referral, ReferralInvite
from app.referrals.orders import describe_discount, due_referrals, issue_reward, mark_rewarded, reward_spec
from app.referrals.service import friend_discount_spec
from app.referrals.settings import get_settings
from app.scheduler import for_each_active_store
from app.stores.clients import client_for
from app.stores.models import Store
from connectors.exceptions import ConnectorError, RateLimited, StoreUnavailable

log = logging.getLogger(__name__)
RETRY = Retry(max=6, interval=[10, 60, 300, 900, 3600, 3600])
STALE = timedelta(minutes=10)
TRANSIENT = (StoreUnavailable, RateLimited)


def enqueue(job: str, row_id: int, store_id: int) -> None:
    try:
        get_queue().enqueue(f"app.referrals.tasks.{job}", row_id, store_id, retry=RETRY)
    except Exception as exc:  # noqa: BLE001  (Redis away: the tick re-enqueues stale rows)
        log.warning("referrals.enqueue_failed", extra={"job": job, "referral_row_id": row_id, "reason": reason(exc)})


# Each job's `store_id` is None when it was queued before jobs carried their store: looked up once by the row's id
# (platform/sql.job_store_id), so the jobs of the old shape still in Redis (or waiting for a retry) after the
# deploy run.


def create_friend_discount(invite_id: int, store_id: int | None = None) -> str:
    with job_app().app_context():
        try:
            store_id = job_store_id(db.session, ReferralInvite, invite_id, store_id)
            invite = get_in_store(db.session, ReferralInvite, invite_id, store_id) if store_id else None
            store = db.session.get(Store, invite.store_id) if invite else None
            if invite is None or store is None or store.status != "active" or invite.discount_status != "pending":
                return "skipped"
            spec = friend_discount_spec(store, invite, utcnow())
            invite.attempts += 1
            try:
                created = client_for(store).create_discount(spec)  # HTTP from a job, never from a service
            except TRANSIENT as exc:
                invite.last_error = type(exc).__name__
                db.session.commit()
                raise
            except ConnectorError as exc:  # the reason kept: e.g. which field the store stored otherwise
                invite.discount_status, invite.last_error = "failed", f"{type(exc).__name__}: {exc}"[:255]
                db.session.commit()
                return "failed"
            invite.discount_status, invite.discount_platform_id, invite.last_error = (
                "created",
                created.platform_id,
                None,
            )
            db.session.commit()
            log.info("referrals.friend_code_created", extra={"store_id": store.id, "invite_id": invite.id})
            return "created" if created.created else "existed"
        finally:
            db.session.remove()


def create_reward_discount(referral_id: int, store_id: int | None = None) -> str:
    with job_app().app_context():
        try:
            store_id = job_store_id(db.session, Referral, referral_id, store_id)
            referral = get_in_store(db.session, Referral, referral_id, store_id) if store_id else None
            store = db.session.get(Store, referral.store_id) if referral else None
            if referral is None or store is None or referral.status != QUALIFIED or store.status != "active":
                return "skipped"
            # the FK cascades: it exists
            referrer = get_one_in_store(db.session, Customer, referral.referrer_customer_id, store.id)
            now = utcnow()
            try:
                created = client_for(store).create_discount(reward_spec(store, referral, referrer, now))
            except TRANSIENT as exc:
                referral.reward = {**referral.reward, "last_error": type(exc).__name__}
                db.session.commit()
                raise
            except ConnectorError as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
                referral.reward = {**referral.reward, "status": "failed", "last_error": error}
                db.session.commit()
                return "failed"
            referral.reward = {**referral.reward, "status": "created", "platform_id": created.platform_id}
            mark_rewarded(db.session, store, referral, now, f"{describe_discount(store)}: {referral.reward['code']}")
            db.session.commit()
            return "created"
        finally:
            db.session.remove()


def run_store(store: Store, now: datetime) -> dict[str, int]:
    session = db.session
    lock_store(session, store.id)
    rewarded = sum(issue_reward(session, store, r, now) for r in due_referrals(session, store, now))
    discounts = [
        r.id
        for r in session.scalars(select(Referral).where(Referral.store_id == store.id, Referral.status == QUALIFIED))
        if (r.reward or {}).get("status") == "pending"
    ]
    stale = session.scalars(
        select(ReferralInvite.id).where(
            ReferralInvite.store_id == store.id,
            ReferralInvite.discount_status == "pending",
            ReferralInvite.updated_at < now - STALE,
        )
    ).all()
    session.commit()
    for referral_id in discounts:
        enqueue("create_reward_discount", referral_id, store.id)
    for invite_id in stale:
        enqueue("create_friend_discount", invite_id, store.id)
    return {"rewarded": rewarded, "reward_codes": len(discounts), "requeued": len(stale)}


def tick(app: Flask, now: datetime | None = None) -> dict[str, int]:
    """The scheduler step: every active store with referrals on, one transaction each."""
    now = now or utcnow()
    return for_each_active_store(
        app,
        lambda store: run_store(store, now),
        enabled=lambda store: get_settings(store).enabled,
        totals={"rewarded": 0, "reward_codes": 0, "requeued": 0},
        failure_key="referrals.tick_failed",
        due=stores_with_work(now),
    )


def stores_with_work(now: datetime) -> CompoundSelect:
    """The stores run_store may find something in: a pending referral due, a qualified one (its reward code may
    be pending), an invite's discount pending for longer than STALE. A superset is fine: run_store decides."""
    due = select(Referral.store_id).where(Referral.status == PENDING, Referral.reward_due_at <= now)
    qualified = select(Referral.store_id).where(Referral.status == QUALIFIED)
    stale = select(ReferralInvite.store_id).where(
        ReferralInvite.discount_status == "pending", ReferralInvite.updated_at < now - STALE
    )
    return union(due, qualified, stale)
