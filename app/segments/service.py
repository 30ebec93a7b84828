"""Segments as the rest of the product uses them: every segment with its size, a segment's members page by page,
one customer's segments. Built-in keys are the lifecycle's; a merchant's own are theirs (models.Segment)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session

from app.loyalty.api import LoyaltyAccount
from app.records.models import Customer
from app.segments import conditions, lifecycle, rhythm
from app.segments.facts import Windows, facts_of, windows
from app.segments.models import Segment
from app.stores.models import Store


@dataclass(frozen=True)
class Definition:
    key: str
    name: str
    built_in: bool
    rule: tuple[conditions.Condition, ...] = ()


NAMES = {"new": "New", "repeat": "Repeat", "vip": "VIP", "at_risk": "At risk", "lapsed": "Lapsed"}


def definitions(session: Session, store: Store) -> list[Definition]:
    found = [Definition(key, NAMES[key], True) for key in lifecycle.BUILT_IN]
    own = session.scalars(select(Segment).where(Segment.store_id == store.id).order_by(Segment.key))
    found += [Definition(s.key, s.name, False, conditions.validate(s.conditions)) for s in own]
    return found


def predicate(definition: Definition, w: Windows) -> ColumnElement[bool]:
    if definition.built_in:
        return lifecycle.sql(definition.key, w)
    return conditions.compile_sql(definition.rule, w)


def scope(store: Store, *columns: Any) -> Select[Any]:
    """The store's customers who ordered, each with its loyalty account (tier) if any: one outer join, not a
    correlated subquery per row."""
    joined = and_(LoyaltyAccount.store_id == Customer.store_id, LoyaltyAccount.customer_id == Customer.id)
    stmt = select(*columns).select_from(Customer).outerjoin(LoyaltyAccount, joined)
    return stmt.where(Customer.store_id == store.id, Customer.orders_count >= 1)


def current_windows(session: Session, store: Store, now: datetime) -> Windows:
    return windows(store, rhythm.current(session, store, now), now)


def counts(session: Session, store: Store, now: datetime) -> list[tuple[Definition, int]]:
    """Every segment's size in one pass over the store's customers."""
    w = current_windows(session, store, now)
    found = definitions(session, store)
    sums = [func.coalesce(func.sum(case((predicate(d, w), 1), else_=0)), 0) for d in found]
    row = session.execute(scope(store, *sums)).one()
    return list(zip(found, (int(v) for v in row), strict=True))


def find(session: Session, store: Store, key: str) -> Definition | None:
    return next((d for d in definitions(session, store) if d.key == key), None)


def members(
    session: Session, store: Store, definition: Definition, now: datetime, *, after_id: int = 0, limit: int = 100
) -> Sequence[Customer]:
    w = current_windows(session, store, now)
    stmt = scope(store, Customer).where(predicate(definition, w), Customer.id > after_id)
    return session.scalars(stmt.order_by(Customer.id).limit(limit)).all()


def member_ids(session: Session, store: Store, definition: Definition, now: datetime) -> Select[Any]:
    """The members as a SELECT of customer ids (an audience: a message to a segment joins it)."""
    return scope(store, Customer.id).where(predicate(definition, current_windows(session, store, now)))


def segments_of(session: Session, store: Store, customer: Customer, now: datetime) -> list[str]:
    """One customer's segments, decided in Python from the same facts (no query per segment)."""
    if customer.store_id != store.id:
        return []
    w = current_windows(session, store, now)
    facts = facts_of(session, customer)
    keys = [k for k in lifecycle.BUILT_IN if lifecycle.holds(k, facts, w)]
    keys += [d.key for d in definitions(session, store) if not d.built_in and facts.orders >= 1
             and conditions.holds(d.rule, facts, w)]  # fmt: skip
    return keys
