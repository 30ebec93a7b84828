"""The built-in segments, each one predicate in two forms that must agree: SQL over the customer record (counts and
members at any size) and Python over `Facts` (one customer, and the tests' from-scratch recomputation).

A customer with no order is in none. Recency splits everyone who ordered into exactly one of new / repeat (recent),
at risk (last order more than 1.5 store intervals ago) and lapsed (more than 3); VIP cuts across them (the store's
top loyalty tier, or the top 5% of spend in the store's currency): a VIP going quiet is both, which is the point.
Membership is never stored: the aggregates it reads are recomputed from the orders on every order event
(records/customers.apply_totals), and time moves the recency boundaries with `now`, so nothing goes stale and
nothing needs a nightly rescan.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, and_, false, or_

from app.loyalty.api import LoyaltyAccount
from app.records.models import Customer
from app.segments.facts import Facts, Windows, spent_number

BUILT_IN = ("new", "repeat", "vip", "at_risk", "lapsed")


def _recent(w: Windows) -> ColumnElement[bool]:
    return Customer.last_order_at >= w.risk_after


def sql(key: str, w: Windows) -> ColumnElement[bool]:
    """The predicate over customers LEFT JOINed to loyalty_accounts (service.scope)."""
    ordered = Customer.orders_count >= 1
    if key == "new":
        return and_(Customer.orders_count == 1, _recent(w))
    if key == "repeat":
        return and_(Customer.orders_count >= 2, _recent(w))
    if key == "at_risk":
        return and_(ordered, Customer.last_order_at < w.risk_after, Customer.last_order_at >= w.lapse_after)
    if key == "lapsed":
        return and_(ordered, Customer.last_order_at < w.lapse_after)
    if key == "vip":
        parts: list[ColumnElement[bool]] = []
        if w.top_tier:
            parts.append(LoyaltyAccount.tier == w.top_tier)
        if w.vip_currency and w.vip_spend is not None and w.vip_spend > 0:
            parts.append(and_(Customer.currency == w.vip_currency, spent_number(Customer.total_spent) >= w.vip_spend))
        return and_(ordered, or_(*parts)) if parts else false()
    raise KeyError(key)


def _python(key: str) -> Callable[[Facts, Windows], bool]:
    def recent(f: Facts, w: Windows) -> bool:
        return f.last_order_at is not None and f.last_order_at >= w.risk_after

    def vip(f: Facts, w: Windows) -> bool:
        by_tier = bool(w.top_tier) and f.tier == w.top_tier
        by_spend = (
            w.vip_currency is not None
            and w.vip_spend is not None
            and w.vip_spend > 0
            and f.currency == w.vip_currency
            and f.total_spent >= w.vip_spend
        )
        return by_tier or by_spend

    table: dict[str, Callable[[Facts, Windows], bool]] = {
        "new": lambda f, w: f.orders == 1 and recent(f, w),
        "repeat": lambda f, w: f.orders >= 2 and recent(f, w),
        "at_risk": lambda f, w: f.last_order_at is not None and w.lapse_after <= f.last_order_at < w.risk_after,
        "lapsed": lambda f, w: f.last_order_at is not None and f.last_order_at < w.lapse_after,
        "vip": vip,
    }
    return table[key]


def holds(key: str, facts: Facts, w: Windows) -> bool:
    return facts.orders >= 1 and _python(key)(facts, w)
