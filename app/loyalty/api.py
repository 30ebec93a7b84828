"""The loyalty API other features call (redemption, reviews, e-mail, admin): one import point.

- balance(session, store, customer, now) -> Balance(total, pending, spendable, lifetime_earned, expiring_30d, held)
- hold_points(session, store, customer, points, source_key, rule, now=None) -> PointsLedger  (InsufficientPoints)
- release_hold(session, store, source_key_of_hold, reason, now=None, *, suffix="release"|"refund") -> row | None
- award_action(session, store, customer, action, ref, now=None) -> PointsLedger | None
- award_birthday(session, store, customer, year, now=None) -> PointsLedger | None
- reconcile_order(session, store, order, now=None) -> list[PointsLedger]
- refresh_account(session, store, customer_id, now) -> LoyaltyAccount | None
- check_invariants(session, store) -> list[str]
- credit_points(session, store, customer_id, source_key, points, rule, now) -> PointsLedger | None
- reverse_credit(session, store, credit_key, source_key, now) -> PointsLedger | None: a credit taken back, once
- points_available_at(store, order) -> datetime | None
- tier_names(store) -> tuple[str, ...]: the store's tiers, lowest threshold first (top_tier: the last, or None)
- LoyaltyAccount: the per-customer cache (its `tier`), for a feature that joins it in a set-based query (segments)
- order_points(session, store, order, now) -> OrderPoints(points, state, spendable_at)
- preview_points(settings, amount, currency, tier) -> int; get_settings(store)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.ledger import (
    EARNED_KINDS,
    Balance,
    InsufficientPoints,
    append,
    award_action,
    award_birthday,
    balance,
    find_row,
    hold_points,
    refresh_account,
    release_hold,
)
from app.loyalty.models import LoyaltyAccount, PointsLedger
from app.loyalty.orders import available_at, preview_points, reconcile_order
from app.loyalty.settings import LOCALE_QUERY, SettingsError, get_settings, update_settings, validate_settings
from app.records.models import Order
from app.stores.models import Store

__all__ = [
    "LOCALE_QUERY",
    "Balance",
    "InsufficientPoints",
    "LoyaltyAccount",
    "SettingsError",
    "award_action",
    "award_birthday",
    "balance",
    "check_invariants",
    "credit_points",
    "get_settings",
    "hold_points",
    "order_points",
    "preview_points",
    "points_available_at",
    "reconcile_order",
    "refresh_account",
    "reverse_credit",
    "release_hold",
    "tier_names",
    "top_tier",
    "update_settings",
    "validate_settings",
]


def check_invariants(session: Session, store: Store) -> list[str]:
    """Violations of "cached == sum of rows" and of one row per source key (empty when all holds)."""
    problems: list[str] = []
    rows = session.scalars(select(PointsLedger).where(PointsLedger.store_id == store.id)).all()
    by_customer: dict[int, list[PointsLedger]] = defaultdict(list)
    keys: dict[str, int] = defaultdict(int)
    for row in rows:
        by_customer[row.customer_id].append(row)
        keys[row.source_key] += 1
    problems += [f"source key {key} appears {n} times" for key, n in keys.items() if n > 1]
    accounts = {
        a.customer_id: a for a in session.scalars(select(LoyaltyAccount).where(LoyaltyAccount.store_id == store.id))
    }
    for customer_id in set(by_customer) | set(accounts):
        account = accounts.get(customer_id)
        total = sum(r.points for r in by_customer.get(customer_id, []))
        earned = sum(r.points for r in by_customer.get(customer_id, []) if r.kind in EARNED_KINDS)
        if account is None:
            problems.append(f"customer {customer_id}: rows but no account")
        elif (account.balance, account.lifetime_earned) != (total, earned):
            problems.append(
                f"customer {customer_id}: cached balance/earned {account.balance}/{account.lifetime_earned}"
                f" != rows {total}/{earned}"
            )
        elif account.pending + account.spendable + account.held != account.balance:
            problems.append(f"customer {customer_id}: pending + spendable + held != balance")
    return problems


def credit_points(
    session: Session,
    store: Store,
    customer_id: int,
    *,
    source_key: str,
    points: int,
    rule: dict[str, Any],
    now: datetime,
) -> PointsLedger | None:
    """Points another programme gives (a referral reward), spendable at once, exactly once per source key (None
    when the key was credited before); the account is refreshed."""
    row = append(
        session,
        store,
        customer_id=customer_id,
        source_key=source_key,
        kind="action",
        points=points,
        now=now,
        rule=rule,
        available_at=now,
    )
    refresh_account(session, store, customer_id, now)
    return row


def reverse_credit(
    session: Session, store: Store, *, credit_key: str, source_key: str, now: datetime
) -> PointsLedger | None:
    """Take back what credit_points gave under `credit_key` (a surprise whose order was cancelled): one `reverse`
    row of minus those points under `source_key`, exactly once; None when nothing was credited or it was taken
    back before. The balance may go below zero if the points were spent meanwhile, as an order's reversal does."""
    credit = find_row(session, store, credit_key)
    if credit is None or credit.points <= 0:
        return None
    row = append(
        session,
        store,
        customer_id=credit.customer_id,  # the row's owner now (a guest's rows follow the account)
        source_key=source_key,
        kind="reverse",
        points=-credit.points,
        now=now,
        rule={"reverses": credit_key},
        available_at=now,
    )
    if row is not None:
        refresh_account(session, store, credit.customer_id, now)
    return row


def points_available_at(store: Store, order: Order) -> datetime | None:
    """When an order's points become spendable: delivered + the return window, else fulfilled + the fallback
    days (the store's loyalty settings), else not yet known."""
    return available_at(get_settings(store), order)


def tier_names(store: Store) -> tuple[str, ...]:
    return tuple(t.name for t in sorted(get_settings(store).tiers, key=lambda t: t.threshold))


def top_tier(store: Store) -> str | None:
    names = tier_names(store)
    return names[-1] if names else None


@dataclass(frozen=True)
class OrderPoints:
    points: int  # what the order holds now (earned less reversals); what it had earned when fully reversed
    state: str  # "pending" | "spendable" | "reversed" | "none" (no points: unpaid, no customer, programme off)
    spendable_at: datetime | None  # when pending points become spendable, once known (delivery + return window)


def order_points(session: Session, store: Store, order: Order, now: datetime) -> OrderPoints:
    """The points an order earned and their state, from its ledger rows (the order's own, by its platform id)."""
    rows = session.scalars(
        select(PointsLedger).where(
            PointsLedger.store_id == store.id, PointsLedger.order_platform_id == order.platform_id
        )
    ).all()
    earn = next((r for r in rows if r.source_key == f"order:{order.platform_id}:earn"), None)
    if earn is None or earn.points <= 0:
        return OrderPoints(0, "none", None)
    held = sum(r.points for r in rows)
    if held <= 0:
        return OrderPoints(earn.points, "reversed", None)
    if earn.available_at is not None and earn.available_at <= now:
        return OrderPoints(held, "spendable", earn.available_at)
    return OrderPoints(held, "pending", earn.available_at)
