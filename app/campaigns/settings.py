"""A campaign as the merchant writes it, validated (the admin API answers a refusal 422 with its place, as the
segments' conditions do). docs/campaigns.md.

    {"name": "Win them back", "segment": "lapsed",
     "message": {"kind": "win_back", "coupon": {"kind": "percentage", "value": "15", "expires_days": 30}},
     "schedule": {"at": "2027-06-01T09:00:00Z", "every_days": 30}}

message.kind: win_back (a single-use coupon per customer), thanks (a thank-you, no offer) or text (the merchant's
"texts": {locale: {"subject", "body"}} in any of the six languages, the store's default language required).
schedule.at: the first run (now when left out); every_days: 1-365 for a recurring campaign, null for a one-off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from app.errors import InvalidInput
from app.messaging.api import resolve_locale
from app.stores.models import Store

LOCALES = ("en", "pl", "hu", "kk", "lv", "th")
KINDS = ("win_back", "thanks", "text")
_CURRENCY = re.compile(r"[A-Z]{3}")


class ConditionError(InvalidInput):
    """A refused field, named by its place ("message.coupon.value")."""

    code = "invalid"

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _timestamp(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.utcoffset() is not None else None


@dataclass(frozen=True)
class Spec:
    name: str
    segment_key: str
    kind: str
    texts: dict[str, dict[str, str]]
    coupon: dict[str, Any] | None
    first_run: datetime
    every_days: int | None


def _coupon(raw: Any, store: Store) -> dict[str, Any]:
    where = "message.coupon"
    if not isinstance(raw, dict) or set(raw) - {"kind", "value", "expires_days"}:
        raise ConditionError("an object with kind, value and expires_days", where)
    kind = raw.get("kind")
    if kind not in ("percentage", "fixed_amount"):
        raise ConditionError("percentage or fixed_amount", f"{where}.kind")
    try:
        value = Decimal(raw["value"]) if isinstance(raw.get("value"), str) and len(raw["value"]) <= 12 else None
    except InvalidOperation:
        value = None
    top = Decimal("100") if kind == "percentage" else Decimal("100000")
    if value is None or not value.is_finite() or not Decimal(0) < value <= top:
        raise ConditionError(f'a decimal string above 0 and at most {top}, e.g. "15"', f"{where}.value")
    days = raw.get("expires_days", 30)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        raise ConditionError("a whole number of days, 1-365", f"{where}.expires_days")
    currency = store.currency if kind == "fixed_amount" else None
    if kind == "fixed_amount" and not (currency and _CURRENCY.fullmatch(currency)):
        raise ConditionError("a fixed amount needs the store's currency (not known yet)", f"{where}.kind")
    return {"kind": kind, "value": str(value), "currency": currency, "expires_days": days}


def _texts(raw: Any, store: Store) -> dict[str, dict[str, str]]:
    where = "message.texts"
    if not isinstance(raw, dict) or not raw or set(raw) - set(LOCALES):
        raise ConditionError(f"an object keyed by language ({', '.join(LOCALES)})", where)
    out = {}
    for locale, text in raw.items():
        if not isinstance(text, dict) or set(text) != {"subject", "body"}:
            raise ConditionError("an object with subject and body", f"{where}.{locale}")
        subject, body = text["subject"], text["body"]
        if not isinstance(subject, str) or not subject.strip() or len(subject) > 150 or "\n" in subject:
            raise ConditionError("one line of 1-150 characters", f"{where}.{locale}.subject")
        if not isinstance(body, str) or not body.strip() or len(body) > 5000:
            raise ConditionError("1-5000 characters", f"{where}.{locale}.body")
        out[locale] = {"subject": subject.strip(), "body": body.strip()}
    default = resolve_locale((store.settings or {}).get("locale"))
    if default not in out:
        raise ConditionError(f"the store's default language ({default}) is required", where)
    return out


def validate(raw: Any, store: Store, now: datetime, segment_keys: set[str]) -> Spec:
    if not isinstance(raw, dict) or set(raw) - {"name", "segment", "message", "schedule"}:
        raise ConditionError("an object with name, segment, message and schedule", "body")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        raise ConditionError("1-120 characters", "name")
    segment = raw.get("segment")
    if segment not in segment_keys:
        raise ConditionError("the key of one of the store's segments", "segment")
    message = raw.get("message")
    if not isinstance(message, dict) or message.get("kind") not in KINDS:
        raise ConditionError(f"an object whose kind is one of {', '.join(KINDS)}", "message.kind")
    kind = message["kind"]
    allowed = {"kind", "coupon"} if kind == "win_back" else {"kind", "texts"} if kind == "text" else {"kind"}
    if set(message) - allowed:
        raise ConditionError(f"{kind} takes {', '.join(sorted(allowed))}", "message")
    coupon = _coupon(message.get("coupon"), store) if kind == "win_back" else None
    texts = _texts(message.get("texts"), store) if kind == "text" else {}
    schedule = raw.get("schedule", {})
    if not isinstance(schedule, dict) or set(schedule) - {"at", "every_days"}:
        raise ConditionError("an object with at and every_days", "schedule")
    at = now
    if schedule.get("at") is not None:
        parsed = _timestamp(schedule["at"])
        if parsed is None or not now - timedelta(days=1) <= parsed <= now + timedelta(days=366):
            raise ConditionError("an ISO 8601 time with its offset, within the next year", "schedule.at")
        at = max(parsed, now)
    every = schedule.get("every_days")
    if every is not None and (isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= 365):
        raise ConditionError("a whole number of days, 1-365, or null for a one-off", "schedule.every_days")
    return Spec(name.strip(), segment, kind, texts, coupon, at, every)
