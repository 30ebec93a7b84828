"""The points ledger: append rows, compute balances, keep the per-customer cache exact.

Rows are appended, never changed in amount (see app/models/loyalty.py). Every write goes through
append(), which checks the (store, source_key) first: the writers run inside the per-store lock
the inbox holds (services.inbox.lock_store) or the scheduler takes, so check-then-insert is enough;
the unique constraint is the backstop under a race, and its IntegrityError makes the inbox re-apply
the whole delivery from a clean transaction, which then finds the row and writes nothing.

Balance rules:
- total = sum of all rows;
- an order's rows (earn, refund reversals, cancel, reinstate) count together, as one net amount,
  spendable once the order's earn row is available (available_at <= now), pending before; so a
  refund of a not-yet-spendable order takes from pending, never from points already spendable;
- other positive rows are spendable from available_at; other negative rows (holds, expiry) at once;
- spendable can go below zero only when an order is reversed after its points were spent; it is
  shown as it is, never clamped;
- a guest (no platform account) earns, but their points are held for the account: spendable 0,
  `held` shows what would be spendable.
"""

from __future__ import annotations

import calendar
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import Customer, LoyaltyAccount, PointsLedger, Store
from ..models.types import utcnow
from . import customers  # a module import: customers imports this module too
from .balance_read import balance_rows
from .loyalty_settings import LoyaltySettings, get_settings
from .loyalty_writeback import mark_dirty

log = logging.getLogger(__name__)

#: Rows a customer's own doing produces; the expiry clock restarts at the latest one.
ACTIVITY_KINDS = ("earn", "redeem", "action")
#: Rows that count towards lifetime_earned (net of reversals: a refunded order earned nothing).
EARNED_KINDS = ("earn", "reverse", "action")


class InsufficientPoints(Exception):
    def __init__(self, spendable: int, wanted: int) -> None:
        super().__init__(f"spendable {spendable} < {wanted}")
        self.spendable, self.wanted = spendable, wanted


@dataclass(frozen=True)
class Balance:
    total: int
    pending: int
    spendable: int
    lifetime_earned: int
    expiring_30d: int
    held: int = 0  # a guest's points that become spendable when they create an account
    last_activity_at: datetime | None = None
    expires_at: datetime | None = None


def add_months(moment: datetime, months: int) -> datetime:
    year, month0 = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def find_row(session: Session, store: Store, source_key: str) -> PointsLedger | None:
    stmt = select(PointsLedger).where(PointsLedger.store_id == store.id, PointsLedger.source_key == source_key)
    return session.scalar(stmt)


def append(
    session: Session,
    store: Store,
    *,
    customer_id: int,
    source_key: str,
    kind: str,
    points: int,
    now: datetime,
    rule: dict[str, Any] | None = None,
    order_platform_id: str | None = None,
    available_at: datetime | None = None,
    known: set[str] | None = None,
) -> PointsLedger | None:
    """Append one row; None (and nothing written) if the source key already has one. The caller refreshes.

    `known`: every source key that could collide, already loaded by the caller (the batch path): no lookup
    and no flush here; the key is added to it.
    """
    if known is not None:
        if source_key in known:
            return None
        known.add(source_key)
    elif find_row(session, store, source_key) is not None:
        return None
    row = PointsLedger(
        store_id=store.id,
        customer_id=customer_id,
        source_key=source_key,
        kind=kind,
        points=int(points),
        order_platform_id=order_platform_id,
        rule=rule or {},
        available_at=available_at,
        created_at=now,
    )
    session.add(row)
    if known is None:
        session.flush()
    log.info("loyalty.appended", extra={"store_id": store.id, "customer_id": customer_id, "kind": kind})
    return row


def customer_rows(session: Session, store: Store, customer_id: int) -> list[PointsLedger]:
    stmt = select(PointsLedger).where(PointsLedger.store_id == store.id, PointsLedger.customer_id == customer_id)
    return list(session.scalars(stmt.order_by(PointsLedger.id)))


def compute(rows: list[PointsLedger], now: datetime, *, guest: bool, settings: LoyaltySettings) -> Balance:
    spendable = pending = 0
    orders: dict[str, int] = defaultdict(int)
    order_available: dict[str, datetime | None] = {}
    for row in rows:
        if row.order_platform_id is not None and row.kind in ("earn", "reverse"):
            orders[row.order_platform_id] += row.points
            if row.source_key == f"order:{row.order_platform_id}:earn":
                order_available[row.order_platform_id] = row.available_at
        elif row.points < 0 or (row.available_at is not None and row.available_at <= now):
            spendable += row.points
        else:
            pending += row.points
    for order_id, net in orders.items():
        available = order_available.get(order_id)
        if available is not None and available <= now:
            spendable += net
        else:
            pending += net
    activity = [r.created_at for r in rows if r.kind in ACTIVITY_KINDS]
    last_activity = max(activity) if activity else None
    held = 0
    if guest:
        held, spendable = spendable, 0
    expires_at = None
    if settings.inactive_months and last_activity is not None and spendable > 0:
        expires_at = add_months(last_activity, settings.inactive_months)
    expiring = spendable if expires_at is not None and expires_at <= now + timedelta(days=30) else 0
    return Balance(
        total=sum(r.points for r in rows),
        pending=pending,
        spendable=spendable,
        lifetime_earned=sum(r.points for r in rows if r.kind in EARNED_KINDS),
        expiring_30d=expiring,
        held=held,
        last_activity_at=last_activity,
        expires_at=expires_at,
    )


def balance(session: Session, store: Store, customer: Customer, now: datetime) -> Balance:
    """The customer's points as of `now`, computed from the rows (not the cache)."""
    rows = customer_rows(session, store, customer.id)
    return compute(rows, now, guest=customer.is_guest, settings=get_settings(store))


def balance_by_platform_id(
    session: Session, store_id: int, platform_id: str, settings: LoyaltySettings, now: datetime
) -> tuple[Balance, str | None] | None:
    """(balance, tier) of the store's customer with this platform id, or None if we never saw them.

    The storefront's hot path (GET /me/balance): the customer, their tier and their ledger rows in ONE query
    (indexed: customers (store_id, platform_id), loyalty_accounts (store_id, customer_id), points_ledger
    (store_id, customer_id)), computed by the same rules as balance(). Only registered customers have a
    platform id, so never a guest. One round trip, no ORM or Core execution on PostgreSQL (balance_read.py).
    """
    rows = balance_rows(session, store_id, platform_id)
    if not rows:
        return None
    entries = [row for row in rows if row.kind is not None]
    return compute(entries, now, guest=False, settings=settings), rows[0].tier  # type: ignore[arg-type]


def refresh_account(session: Session, store: Store, customer_id: int, now: datetime) -> LoyaltyAccount | None:
    """Recompute the customer's cached sums from their rows (never incremented), and decide the tier."""
    customer = customers.store_customer(session, store, customer_id)
    if customer is None:
        return None
    stmt = select(LoyaltyAccount).where(LoyaltyAccount.store_id == store.id, LoyaltyAccount.customer_id == customer_id)
    account = session.scalar(stmt.with_for_update())
    if account is None:
        account = LoyaltyAccount(store_id=store.id, customer_id=customer_id)
        session.add(account)
    _refresh(session, store, customer, account, customer_rows(session, store, customer_id), get_settings(store), now)
    session.flush()
    return account


def refresh_accounts(session: Session, store: Store, customer_ids: set[int], now: datetime) -> None:
    """refresh_account for many customers: three queries per 500 (the batch path, under the store lock)."""
    settings = get_settings(store)
    ordered = sorted(customer_ids)
    for start in range(0, len(ordered), 500):  # SQLite caps bound parameters per statement
        chunk = ordered[start : start + 500]
        found = session.scalars(select(Customer).where(Customer.store_id == store.id, Customer.id.in_(chunk))).all()
        accounts = {
            a.customer_id: a
            for a in session.scalars(
                select(LoyaltyAccount).where(LoyaltyAccount.store_id == store.id, LoyaltyAccount.customer_id.in_(chunk))
            )
        }
        rows: dict[int, list[PointsLedger]] = defaultdict(list)
        for row in session.scalars(
            select(PointsLedger)
            .where(PointsLedger.store_id == store.id, PointsLedger.customer_id.in_(chunk))
            .order_by(PointsLedger.id)
        ):
            rows[row.customer_id].append(row)
        for customer in found:  # a merged guest is gone: not found, nothing to refresh
            account = accounts.get(customer.id)
            if account is None:
                account = LoyaltyAccount(store_id=store.id, customer_id=customer.id)
                session.add(account)
            _refresh(session, store, customer, account, rows[customer.id], settings, now)


def _refresh(
    session: Session,
    store: Store,
    customer: Customer,
    account: LoyaltyAccount,
    rows: list[PointsLedger],
    settings: LoyaltySettings,
    now: datetime,
) -> None:
    """One account from its rows: the tier decision, the cached sums, the reminder, the store's copy marked."""
    before = (account.spendable, account.tier)  # (None, None) for an account just created
    if settings.enabled:
        from .loyalty_tiers import apply_tiers  # tiers build on this module

        if apply_tiers(session, store, customer, account, rows, settings, now):
            rows = customer_rows(session, store, customer.id)  # a tier reward was appended
    _store_balance(account, compute(rows, now, guest=customer.is_guest, settings=settings))
    _set_reminder(account, settings, now)
    if (account.spendable, account.tier) != before:
        mark_dirty(session, store, customer, now)  # the store's copy (metafield / meta) is behind


def _store_balance(account: LoyaltyAccount, result: Balance) -> None:
    account.balance, account.pending, account.spendable = result.total, result.pending, result.spendable
    account.held, account.lifetime_earned = result.held, result.lifetime_earned
    account.last_activity_at, account.expires_at = result.last_activity_at, result.expires_at


def _set_reminder(account: LoyaltyAccount, settings: LoyaltySettings, now: datetime) -> None:
    account.reminder_due_at = (
        account.expires_at - timedelta(days=settings.reminder_days)
        if account.expires_at is not None and settings.reminder_days
        else None
    )
    account.refreshed_at = now


def hold_points(
    session: Session,
    store: Store,
    customer: Customer,
    points: int,
    source_key: str,
    rule: dict[str, Any],
    now: datetime | None = None,
) -> PointsLedger:
    """A redemption hold (kind redeem, negative). Idempotent: the same key returns the row already held."""
    if points <= 0:
        raise ValueError("a hold takes a positive number of points")
    existing = find_row(session, store, source_key)
    if existing is not None:
        return existing
    now = now or utcnow()
    spendable = balance(session, store, customer, now).spendable
    if spendable < points:
        raise InsufficientPoints(spendable, points)
    row = append(
        session,
        store,
        customer_id=customer.id,
        source_key=source_key,
        kind="redeem",
        points=-points,
        now=now,
        rule=rule,
    )
    assert row is not None
    refresh_account(session, store, customer.id, now)
    return row


#: The suffixes of the rows that give a hold back; at most one of them is ever written per hold.
GIVE_BACK_SUFFIXES = ("release", "refund")


def release_hold(
    session: Session,
    store: Store,
    source_key_of_hold: str,
    reason: str,
    now: datetime | None = None,
    *,
    suffix: str = "release",
) -> PointsLedger | None:
    """Give a hold's points back, once: `<key>:release` (the code failed to be created) or `<key>:refund`
    (the order that used the code was cancelled). Idempotent, and never both for one hold."""
    if suffix not in GIVE_BACK_SUFFIXES:
        raise ValueError(f"suffix must be one of {GIVE_BACK_SUFFIXES}")
    hold = find_row(session, store, source_key_of_hold)
    if hold is None or hold.kind != "redeem":
        return None
    if any(find_row(session, store, f"{source_key_of_hold}:{s}") is not None for s in GIVE_BACK_SUFFIXES):
        return None
    now = now or utcnow()
    row = append(
        session,
        store,
        customer_id=hold.customer_id,
        source_key=f"{source_key_of_hold}:{suffix}",
        kind="redeem_release",
        points=-hold.points,
        now=now,
        rule={"reason": reason[:64]},
        available_at=now,
    )
    if row is not None:
        refresh_account(session, store, hold.customer_id, now)
    return row


def award_action(
    session: Session, store: Store, customer: Customer, action: str, ref: str, now: datetime | None = None
) -> PointsLedger | None:
    """Points for an action (signup, review, birthday), once per (action, ref); None if off or already given."""
    settings = get_settings(store)
    points = settings.actions.get(action)
    if points is None:
        raise ValueError(f"unknown action {action!r}")
    if not settings.enabled or points == 0:
        return None
    now = now or utcnow()
    row = append(
        session,
        store,
        customer_id=customer.id,
        source_key=f"action:{action}:{ref}",
        kind="action",
        points=points,
        now=now,
        rule={"action": action, "points": str(points)},
        available_at=now,
    )
    if row is not None:
        refresh_account(session, store, customer.id, now)
    return row


def award_birthday(session: Session, store: Store, customer: Customer, year: int, now: datetime | None = None):
    """The yearly birthday reward; the scheduler (or the birthday feature) calls it once a year per customer."""
    return award_action(session, store, customer, "birthday", f"{customer.id}:{year}", now)


def move_rows(session: Session, store: Store, from_customer_id: int, to_customer_id: int) -> int:
    """Rows follow the customer (a guest merged into an account). Amounts do not change."""
    moved = session.execute(
        update(PointsLedger)
        .where(PointsLedger.store_id == store.id, PointsLedger.customer_id == from_customer_id)
        .values(customer_id=to_customer_id)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    return int(moved or 0)
