"""Loyalty upkeep run by the scheduler tick: availability refreshes and inactivity expiry.

- Earn rows become spendable at available_at, a moment nothing is delivered for; the cached
  spendable is refreshed for customers whose rows crossed it since the store's watermark (an
  indexed range scan on (store_id, available_at)). A row whose date moves below the watermark
  is already reflected: the reconcile that moved it refreshed the account.
- Expiry: an account whose last activity is older than inactive_months loses its remaining
  spendable balance through `expire:<customer>:<last activity date>` (once per period of
  inactivity). `reminder_days` before that, a `points_expiring` e-mail is queued once per
  customer and expiry date (send_reminders, dedupe `points_expiring:<customer>:<expiry date>`).
- Tiers: accounts whose qualifying window ended are re-decided (loyalty/tiers.roll_windows).
The tick visits only the stores where one of these is due (stores_with_upkeep, one query for all stores).
All run per store under the same per-store lock as the inbox, with an injectable `now`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask
from sqlalchemy import ColumnElement, CompoundSelect, Select, exists, or_, select, union
from sqlalchemy.orm import Session

from app.extensions import db
from app.loyalty.ledger import append, balance, refresh_account
from app.loyalty.models import LoyaltyAccount, LoyaltyStoreState, PointsLedger
from app.loyalty.settings import get_settings
from app.loyalty.tiers import roll_windows
from app.messaging import enqueue_message
from app.messaging.api import Message
from app.platform.locks import lock_store
from app.platform.sql import get_in_store, get_one_in_store
from app.platform.types import utcnow
from app.records.models import Customer
from app.scheduler import for_each_active_store
from app.stores.models import Store

log = logging.getLogger(__name__)


def _state(session: Session, store: Store) -> LoyaltyStoreState:
    stmt = select(LoyaltyStoreState).where(LoyaltyStoreState.store_id == store.id)
    state = session.scalar(stmt.with_for_update())
    if state is None:
        state = LoyaltyStoreState(store_id=store.id)
        session.add(state)
        session.flush()
    return state


def refresh_available(session: Session, store: Store, now: datetime) -> int:
    """Refresh the accounts whose rows became spendable since the watermark; returns how many."""
    state = _state(session, store)
    stmt = select(PointsLedger.customer_id).where(PointsLedger.store_id == store.id, PointsLedger.available_at <= now)
    if state.available_watermark is not None:
        stmt = stmt.where(PointsLedger.available_at > state.available_watermark)
    customer_ids = sorted(set(session.scalars(stmt)))
    for customer_id in customer_ids:
        refresh_account(session, store, customer_id, now)
    state.available_watermark = now
    session.flush()
    return len(customer_ids)


def expire_inactive(session: Session, store: Store, now: datetime) -> int:
    """Expire the spendable balance of accounts inactive for inactive_months; returns rows written."""
    if get_settings(store).inactive_months == 0:
        return 0
    accounts = session.scalars(
        select(LoyaltyAccount).where(LoyaltyAccount.store_id == store.id, LoyaltyAccount.expires_at <= now)
    ).all()
    written = 0
    for account in accounts:
        customer = account.customer_id
        current = refresh_account(session, store, customer, now)  # the cache may predate the last activity
        if current is None or current.expires_at is None or current.expires_at > now:
            continue
        # The account's customer_id is a foreign key to an existing customer of the same store.
        points = balance(session, store, get_one_in_store(session, Customer, customer, store.id), now).spendable
        activity = current.last_activity_at.date().isoformat() if current.last_activity_at else "never"
        row = append(
            session,
            store,
            customer_id=customer,
            source_key=f"expire:{customer}:{activity}",
            kind="expire",
            points=-points,
            now=now,
            rule={"inactive_months": str(get_settings(store).inactive_months), "last_activity": activity},
        )
        refresh_account(session, store, customer, now)
        if row is not None:
            written += 1
            log.info("loyalty.expired", extra={"store_id": store.id, "customer_id": customer})
    return written


def due_reminders(session: Session, store: Store, now: datetime) -> list[LoyaltyAccount]:
    """Accounts whose expiry reminder is due (the e-mail feature dedupes by customer + expires_at)."""
    stmt = select(LoyaltyAccount).where(
        LoyaltyAccount.store_id == store.id,
        LoyaltyAccount.reminder_due_at <= now,
        LoyaltyAccount.expires_at > now,
    )
    return list(session.scalars(stmt.order_by(LoyaltyAccount.id)))


def shop_url(store: Store) -> str:
    # Shopify's domain is <shop>.myshopify.com (it redirects to the primary domain); WooCommerce's is host[/path].
    return f"https://{store.domain}"


def send_reminders(session: Session, store: Store, now: datetime) -> int:
    """Queue the `points_expiring` e-mail for every due account; returns how many new messages were queued.

    enqueue_message is idempotent per dedupe key, so a reminder due over several ticks is queued once;
    it also applies suppression and consent (the row is kept as `suppressed`, never sent). Customers
    without an address (guests known only by platform, erased records) get nothing.
    """
    queued = 0
    for account in due_reminders(session, store, now):
        customer = get_in_store(session, Customer, account.customer_id, account.store_id)
        if customer is None or not customer.email or account.spendable <= 0 or account.expires_at is None:
            continue
        expires_on = account.expires_at.date().isoformat()
        key = f"points_expiring:{customer.id}:{expires_on}"
        if session.scalar(select(Message.id).where(Message.store_id == store.id, Message.dedupe_key == key)):
            continue  # queued on an earlier tick
        enqueue_message(
            session,
            store,
            template="points_expiring",
            to=customer.email,
            locale=customer.locale,
            context={
                "first_name": customer.first_name,
                "points": account.spendable,
                "expires_on": expires_on,
                "shop_url": shop_url(store),
            },
            dedupe_key=key,
            customer_id=customer.id,
        )
        queued += 1
    return queued


def run_store(session: Session, store: Store, now: datetime) -> dict[str, int]:
    lock_store(session, store.id)
    rolled = roll_windows(session, store, now)  # first, so the count says how many windows this tick closed
    refreshed = refresh_available(session, store, now)
    expired = expire_inactive(session, store, now)
    reminders = send_reminders(session, store, now)
    return {"refreshed": refreshed, "expired": expired, "tiers_rolled": rolled, "reminders_queued": reminders}


def tick(app: Flask, now: datetime | None = None) -> dict[str, int]:
    """The scheduler step: every active store, one transaction each (a failing store does not stop the rest)."""
    now = now or utcnow()
    return for_each_active_store(
        app,
        lambda store: run_store(db.session, store, now),
        enabled=lambda store: get_settings(store).enabled,
        totals={"refreshed": 0, "expired": 0, "tiers_rolled": 0, "reminders_queued": 0},
        failure_key="loyalty.tick_failed",
        due=stores_with_upkeep(now),
    )


def stores_with_upkeep(now: datetime) -> CompoundSelect:
    """The stores run_store may find something in (a superset: run_store decides), each condition an EXISTS per
    store on the index run_store itself uses: an earn row spendable since the store's watermark (or no
    watermark yet), a tier window ended, an expiry or a reminder due."""
    # Correlated by hand: nested in the EXISTS below, auto-correlation would only reach the EXISTS (which names no
    # store) and the subquery would scan every store's watermark.
    watermark = (
        select(LoyaltyStoreState.available_watermark)
        .where(LoyaltyStoreState.store_id == Store.id)
        .correlate(Store)
        .scalar_subquery()
    )
    spendable = exists().where(
        PointsLedger.store_id == Store.id,
        PointsLedger.available_at <= now,
        or_(watermark.is_(None), PointsLedger.available_at > watermark),
    )

    def account(*conditions: ColumnElement[bool]) -> Select[tuple[int]]:
        return select(Store.id).where(exists().where(LoyaltyAccount.store_id == Store.id, *conditions))

    return union(
        select(Store.id).where(spendable),
        account(LoyaltyAccount.tier_expires_at <= now),
        account(LoyaltyAccount.expires_at <= now),
        account(LoyaltyAccount.reminder_due_at <= now, LoyaltyAccount.expires_at > now),
    )
