"""A merchant's segment: up to ten conditions, all of which must hold, over the customer record.

    {"field": "orders", "op": "gte", "value": 3}
    {"field": "spent", "op": "gte", "value": "250.00", "currency": "EUR"}   money as a decimal string, per currency
    {"field": "last_order_days", "op": "gte", "value": 90}                  days since the last order (first_order_days)
    {"field": "tier", "op": "in", "value": ["Gold", "Platinum"]}
    {"field": "lifecycle", "op": "eq", "value": "lapsed"}                   a built-in segment
    {"field": "accepts_marketing", "op": "eq", "value": true}
    {"field": "country", "op": "in", "value": ["PL", "HU"]}                 ISO 3166-1 alpha-2, the customer's country
    {"field": "tag", "op": "has", "value": "wholesale"}                     a merchant's customer tag (Shopify)

Like the built-ins, each condition is SQL (compile) and Python (holds) that must agree. A refused condition names
its place ("conditions[2].value") with the settings' error (422 in the admin API).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, Numeric, and_, cast, true

from app.errors import InvalidInput
from app.loyalty.api import LoyaltyAccount
from app.records.models import Customer
from app.segments import lifecycle
from app.segments.facts import Facts, Windows
from connectors.countries import country_code
from connectors.parsing import MAX_TAG_LENGTH

MAX_CONDITIONS = 10
OPS = {"orders": ("gte", "lte", "eq"), "spent": ("gte", "lte"), "last_order_days": ("gte", "lte"),
       "first_order_days": ("gte", "lte"), "tier": ("eq", "in"), "lifecycle": ("eq",),
       "accepts_marketing": ("eq",), "country": ("in",), "tag": ("has",)}  # fmt: skip
_CURRENCY = re.compile(r"[A-Z]{3}")


class ConditionError(InvalidInput):
    code = "invalid"

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any
    currency: str | None = None


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
        raise ConditionError("a whole number from 0 to 100000", where)
    return value


def _one(raw: Any, where: str) -> Condition:
    if not isinstance(raw, dict) or set(raw) - {"field", "op", "value", "currency"}:
        raise ConditionError("an object with field, op, value (and currency for spent)", where)
    field, op, value = raw.get("field"), raw.get("op"), raw.get("value")
    if field not in OPS:
        raise ConditionError(f"one of {', '.join(OPS)}", f"{where}.field")
    if op not in OPS[field]:
        raise ConditionError(f"one of {', '.join(OPS[field])}", f"{where}.op")
    currency = None
    if field in ("orders", "last_order_days", "first_order_days"):
        value = _int(value, f"{where}.value")
    elif field == "spent":
        currency = raw.get("currency")
        if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
            raise ConditionError("an ISO 4217 code, e.g. EUR", f"{where}.currency")
        try:
            value = Decimal(value) if isinstance(value, str) and len(value) <= 20 else None
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value < 0:
            raise ConditionError('a decimal string, e.g. "250.00"', f"{where}.value")
    elif field == "tier":
        names = value if op == "in" else [value]
        if not isinstance(names, list) or not names or len(names) > 20:
            raise ConditionError("a tier name (eq) or a list of 1-20 names (in)", f"{where}.value")
        if not all(isinstance(n, str) and 0 < len(n) <= 64 for n in names):
            raise ConditionError("tier names of 1-64 characters", f"{where}.value")
        value = tuple(names)
    elif field == "country":
        listed = value if isinstance(value, list) else []
        codes = [country_code(c) if isinstance(c, str) and len(c) == 2 else None for c in listed]
        if not 1 <= len(codes) <= 50 or None in codes:
            raise ConditionError('a list of 1-50 ISO 3166-1 alpha-2 codes, e.g. ["PL", "HU"]', f"{where}.value")
        value = tuple(dict.fromkeys(c for c in codes if c))
    elif field == "tag":
        tag = value.strip().lower() if isinstance(value, str) else ""
        if not 0 < len(tag) <= MAX_TAG_LENGTH or "," in tag:
            raise ConditionError(f"a tag of 1-{MAX_TAG_LENGTH} characters, without a comma", f"{where}.value")
        value = tag
    elif field == "lifecycle":
        if value not in lifecycle.BUILT_IN:
            raise ConditionError(f"one of {', '.join(lifecycle.BUILT_IN)}", f"{where}.value")
    elif not isinstance(value, bool):
        raise ConditionError("true or false", f"{where}.value")
    return Condition(field, op, value, currency)


def validate(raw: Any) -> tuple[Condition, ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_CONDITIONS:
        raise ConditionError(f"a list of 1-{MAX_CONDITIONS} conditions", "conditions")
    return tuple(_one(item, f"conditions[{i}]") for i, item in enumerate(raw))


def as_json(conditions: tuple[Condition, ...]) -> list[dict[str, Any]]:
    out = []
    for c in conditions:
        value: Any = str(c.value) if isinstance(c.value, Decimal) else c.value
        value = list(value) if isinstance(value, tuple) and c.op == "in" else value  # tier, country
        value = value[0] if isinstance(value, tuple) else value
        item = {"field": c.field, "op": c.op, "value": value}
        out.append(item | ({"currency": c.currency} if c.currency else {}))
    return out


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    return {"gte": column >= value, "lte": column <= value, "eq": column == value}[op]


def _sql_one(c: Condition, w: Windows) -> ColumnElement[bool]:
    if c.field == "orders":
        return _compare(Customer.orders_count, c.op, c.value)
    if c.field == "spent":
        # spent_by_currency holds decimal strings per currency: {"EUR": "120.50"}; a customer who never bought in
        # that currency matches no spend condition in it (NULL compares false; Python's mirror says False).
        spent = cast(Customer.spent_by_currency[c.currency].as_string(), Numeric(18, 4))
        return _compare(spent, c.op, c.value)
    if c.field in ("last_order_days", "first_order_days"):
        column = Customer.last_order_at if c.field == "last_order_days" else Customer.first_order_at
        boundary = w.now - timedelta(days=c.value)
        return column <= boundary if c.op == "gte" else column >= boundary  # more days ago = earlier
    if c.field == "tier":
        return LoyaltyAccount.tier.in_(c.value)
    if c.field == "lifecycle":
        return and_(Customer.orders_count >= 1, lifecycle.sql(c.value, w))
    if c.field == "country":
        return Customer.country.in_(c.value)
    if c.field == "tag":
        # ",a,b," LIKE '%,a,%' (records.models.customer.tags_text); autoescape: a tag may hold % or _
        return Customer.tags.contains(f",{c.value},", autoescape=True)
    return Customer.accepts_marketing.is_(c.value)


def compile_sql(conditions: tuple[Condition, ...], w: Windows) -> ColumnElement[bool]:
    return and_(true(), *(_sql_one(c, w) for c in conditions))


def _holds_one(c: Condition, f: Facts, w: Windows) -> bool:
    def compare(a: Any, b: Any) -> bool:
        return {"gte": a >= b, "lte": a <= b, "eq": a == b}[c.op]

    if c.field == "orders":
        return compare(f.orders, c.value)
    if c.field == "spent":
        spent = f.spent_by_currency.get(c.currency or "")
        return spent is not None and compare(spent, c.value)
    if c.field in ("last_order_days", "first_order_days"):
        when = f.last_order_at if c.field == "last_order_days" else f.first_order_at
        if when is None:
            return False
        boundary = w.now - timedelta(days=c.value)
        return when <= boundary if c.op == "gte" else when >= boundary
    if c.field == "tier":
        return f.tier in c.value
    if c.field == "lifecycle":
        return lifecycle.holds(c.value, f, w)
    if c.field == "country":
        return f.country in c.value
    if c.field == "tag":
        return c.value in f.tags
    return f.accepts_marketing is c.value


def holds(conditions: tuple[Condition, ...], f: Facts, w: Windows) -> bool:
    return all(_holds_one(c, f, w) for c in conditions)
