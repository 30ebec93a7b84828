"""The points liability report: what a store owes its customers in points, and what that is worth.

One aggregate query over the cached sums (loyalty_accounts, joined only to the customers whose currency is not the
store's: see _by_currency), GROUP BY currency; no customer is loaded, so it stays fast on a store with 250k
customers (bench/loyalty_report.py, bench/dashboard_overview.py measure it). The caches are exact as of each
account's last refresh; the scheduler step refreshes accounts whose points became spendable, so pending/spendable
are as of its last tick.

- A customer's points are reported in their headline currency (Customer.currency, the rule of
  customers.refresh_totals), else the store's currency (customers with no order yet).
- outstanding = pending + spendable + held (a guest's points waiting for an account) = the balance.
- expiring_30d: the spendable points of accounts whose inactivity expiry falls within 30 days of now
  (or has passed and awaits the next tick), as Balance.expiring_30d computes it per customer.
- Money value, per currency: the best rate the rewards catalogue offers for that currency, i.e. the
  highest value/points of its `fixed_amount` rewards in that currency. Percentage and free-shipping
  rewards have no fixed value and are not used; a currency without a fixed_amount reward has no value
  (null), rather than a guessed one. Values are rounded half-up to 0.01.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from app.loyalty.models import LoyaltyAccount
from app.loyalty.settings import LoyaltySettings, get_settings
from app.records.models import Customer
from app.stores.models import Store

CENT = Decimal("0.01")


def point_values(settings: LoyaltySettings) -> dict[str, dict[str, Any]]:
    """Per currency: the money value of one point and the reward it comes from (see the module docstring)."""
    best: dict[str, dict[str, Any]] = {}
    for reward in settings.rewards:
        if reward.type != "fixed_amount" or reward.value is None or reward.currency is None:
            continue
        per_point = reward.value / Decimal(reward.points)
        if reward.currency not in best or per_point > best[reward.currency]["per_point"]:
            best[reward.currency] = {"per_point": per_point, "reward_id": reward.id}
    return best


def _money(points: int, per_point: Decimal | None) -> str | None:
    if per_point is None:
        return None
    return str((Decimal(points) * per_point).quantize(CENT, rounding=ROUND_HALF_UP))


def _sums(now: datetime) -> list[Any]:
    """The figures of a group of accounts."""
    soon = now + timedelta(days=30)
    expiring = case(
        (and_(LoyaltyAccount.expires_at.is_not(None), LoyaltyAccount.expires_at <= soon), LoyaltyAccount.spendable),
        else_=0,
    )
    return [
        func.count().label("accounts"),
        func.sum(case((LoyaltyAccount.balance != 0, 1), else_=0)).label("with_points"),
        func.sum(LoyaltyAccount.balance).label("outstanding"),
        func.sum(LoyaltyAccount.pending).label("pending"),
        func.sum(LoyaltyAccount.spendable).label("spendable"),
        func.sum(LoyaltyAccount.held).label("held"),
        func.sum(expiring).label("expiring_30d"),
    ]


def _by_currency(session: Session, store: Store, now: datetime) -> list[Any]:
    """Per currency, the sums of the store's accounts, by their customer's headline currency (else the store's).

    Most customers buy in the store's own currency, so rather than join every account to its customer (a hash of
    all the store's customers: 0.4 s at 250,000), the accounts are joined only to the customers in another
    currency (an index-only scan of `ix_customers_store_id_currency`); the others are the store's currency, as a
    customer without one is (an account's customer is of its store)."""
    default = store.currency or ""
    others = (
        select(Customer.id, Customer.currency)
        .where(
            Customer.store_id == store.id,
            or_(Customer.currency < literal(default), Customer.currency > literal(default)),  # index ranges
        )
        .subquery()
    )
    currency = func.coalesce(others.c.currency, literal(default)).label("currency")
    return list(
        session.execute(
            select(currency, *_sums(now))
            .select_from(LoyaltyAccount)
            .outerjoin(others, others.c.id == LoyaltyAccount.customer_id)
            .where(LoyaltyAccount.store_id == store.id)
            .group_by(currency)
            .order_by(currency)
        )
    )


def liability_report(session: Session, store: Store, now: datetime) -> dict[str, Any]:
    settings = get_settings(store)
    values = point_values(settings)
    currencies = []
    for row in _by_currency(session, store, now):
        value = values.get(row.currency)
        per_point = value["per_point"] if value else None
        figures = {
            k: int(getattr(row, k) or 0) for k in ("outstanding", "pending", "spendable", "held", "expiring_30d")
        }
        currencies.append(
            {
                "currency": row.currency or None,
                "accounts": int(row.accounts),
                "accounts_with_points": int(row.with_points or 0),
                "points": figures,
                "value_per_point": None if per_point is None else format(per_point.normalize(), "f"),
                "value_from_reward": value["reward_id"] if value else None,
                "value": {k: _money(v, per_point) for k, v in figures.items()},
            }
        )
    return {"store_id": store.id, "as_of": now.isoformat(), "currencies": currencies}
