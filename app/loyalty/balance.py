"""Points balances: the rules that turn a customer's ledger rows into a Balance, and the reads behind them.

Split from loyalty/ledger.py (which re-exports every name here) so the balance arithmetic, the
storefront's one-query read and the writes each sit in a module of their own; nothing here writes.

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
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.loyalty.balance_read import balance_rows
from app.loyalty.models import PointsLedger
from app.loyalty.settings import LoyaltySettings, get_settings
from app.records.models import Customer
from app.stores.models import Store

#: Rows a customer's own doing produces; the expiry clock restarts at the latest one.
ACTIVITY_KINDS = ("earn", "redeem", "action")
#: Rows that count towards lifetime_earned (net of reversals: a refunded order earned nothing).
EARNED_KINDS = ("earn", "reverse", "action")


class InsufficientPoints(Conflict):
    code = "insufficient_points"

    def __init__(self, spendable: int, wanted: int) -> None:
        message = f"the customer has {spendable} spendable points; the reward costs {wanted}"
        super().__init__(message, spendable=spendable, wanted=wanted)
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


def storefront_balance(
    session: Session, store_id: int, platform_id: str, settings: LoyaltySettings, now: datetime
) -> tuple[Balance, str | None, datetime | None] | None:
    """(balance, tier, when the balance next changes by time alone) of the store's customer with this platform
    id, or None if we never saw them.

    The storefront's hot path (GET /me/balance): the customer, their tier and their ledger rows in ONE query
    (indexed: customers (store_id, platform_id), loyalty_accounts (store_id, customer_id), points_ledger
    (store_id, customer_id)), computed by the same rules as balance(). Only registered customers have a
    platform id, so never a guest. One round trip, no ORM or Core execution on PostgreSQL (balance_read.py).
    """
    rows = balance_rows(session, store_id, platform_id)
    if not rows:
        return None
    entries = [row for row in rows if row.kind is not None]
    points = compute(entries, now, guest=False, settings=settings)  # type: ignore[arg-type]
    return points, rows[0].tier, changes_at(entries, points, now)


def changes_at(rows: list, points: Balance, now: datetime) -> datetime | None:
    """The next moment compute() would answer differently with no new row: a row's available_at (pending to
    spendable) or the start of the 30-day expiry notice. (Expiry itself is a row the expiry job writes.)"""
    moments = [r.available_at for r in rows if r.available_at is not None and r.available_at > now]
    if points.expires_at is not None and points.expires_at - timedelta(days=30) > now:
        moments.append(points.expires_at - timedelta(days=30))
    return min(moments) if moments else None
