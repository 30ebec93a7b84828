"""Per-store referral settings, in Store.settings["referrals"]; decimals as strings, validated on write.

The return window is the loyalty programme's (loyalty_settings: return_window_days, fulfilled_fallback_days):
a friend's order counts for the referrer exactly when it would count for points.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from app.loyalty.api import SettingsError
from app.platform.settings import memoized
from app.platform.settings import merge as _merge
from app.stores.models import Store

DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "auto_create": False,  # create a customer's code when their first order is paid
    "friend_discount": {"kind": "percentage", "value": "10", "currency": None, "minimum_subtotal": None,
                        "expires_days": 30},
    "reward": {"type": "points", "points": 500, "kind": "fixed_amount", "value": "10", "currency": None},
    "velocity": {"max": 5, "hours": 24},  # more referrals than this per referrer in the window: flagged
    "friend_codes_per_day": 100,  # new friend codes one share link makes per 24 h (0: no cap); invites.py
}  # fmt: skip
KINDS = ("fixed_amount", "percentage", "free_shipping")


@dataclass(frozen=True)
class Discount:
    kind: str
    value: Decimal
    currency: str | None
    minimum_subtotal: Decimal | None = None
    expires_days: int = 0


@dataclass(frozen=True)
class ReferralSettings:
    enabled: bool
    auto_create: bool
    friend_discount: Discount
    reward_type: str  # points | discount
    reward_points: int
    reward_discount: Discount
    velocity_max: int
    velocity_hours: int
    friend_codes_per_day: int
    raw: dict[str, Any]


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, float | bool) or not isinstance(value, str | int):
        raise SettingsError('give decimals as strings, e.g. "10"', where)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise SettingsError("not a decimal number", where) from None
    if not number.is_finite() or number < 0:
        raise SettingsError("must be a non-negative number", where)
    return number


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(f"must be an integer between {low} and {high}", where)
    return value


def _discount(raw: Any, where: str) -> Discount:
    if not isinstance(raw, dict):
        raise SettingsError("must be an object", where)
    kind = raw.get("kind")
    if kind not in KINDS:
        raise SettingsError(f"must be one of {', '.join(KINDS)}", f"{where}.kind")
    value = _decimal(raw.get("value", "0"), f"{where}.value")
    if kind == "percentage" and not 0 < value <= 100:
        raise SettingsError("a percentage is above 0 and at most 100", f"{where}.value")
    if kind == "fixed_amount" and value <= 0:
        raise SettingsError("must be positive", f"{where}.value")
    minimum = raw.get("minimum_subtotal")
    return Discount(
        kind=kind,
        value=value,
        currency=raw.get("currency") if isinstance(raw.get("currency"), str) else None,
        minimum_subtotal=None if minimum is None else _decimal(minimum, f"{where}.minimum_subtotal"),
        expires_days=_int(raw.get("expires_days", 0), f"{where}.expires_days", 0, 3650),
    )


def validate(raw: Any) -> ReferralSettings:
    if not isinstance(raw, dict):
        raise SettingsError("must be an object", "referrals")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise SettingsError(f"unknown key(s) {', '.join(unknown)}", "referrals")
    data = _merge(copy.deepcopy(DEFAULTS), raw)
    for key in ("enabled", "auto_create"):
        if not isinstance(data[key], bool):
            raise SettingsError("must be true or false", key)
    reward = data["reward"]
    if reward.get("type") not in ("points", "discount"):
        raise SettingsError("must be points or discount", "reward.type")
    return ReferralSettings(
        enabled=data["enabled"],
        auto_create=data["auto_create"],
        friend_discount=_discount(data["friend_discount"], "friend_discount"),
        reward_type=reward["type"],
        reward_points=_int(reward.get("points", 0), "reward.points", 0, 10_000_000),
        reward_discount=_discount(reward, "reward"),
        velocity_max=_int(data["velocity"].get("max"), "velocity.max", 0, 100_000),
        velocity_hours=_int(data["velocity"].get("hours"), "velocity.hours", 1, 24 * 365),
        friend_codes_per_day=_int(data["friend_codes_per_day"], "friend_codes_per_day", 0, 1_000_000),
        raw=data,
    )


_validated = memoized(validate)


def get_settings(store: Store) -> ReferralSettings:
    return _validated((store.settings or {}).get("referrals", {}))


def _merged(store: Store, patch: Any) -> dict[str, Any]:
    if not isinstance(patch, dict):
        raise SettingsError("must be an object", "referrals")
    return _merge((store.settings or {}).get("referrals", {}), patch)


def check_update(store: Store, patch: Any) -> ReferralSettings:
    """What update_settings would save, validated, with nothing written (the dashboard's preview)."""
    return validate(_merged(store, patch))


def update_settings(session: Session, store: Store, patch: Any) -> ReferralSettings:
    """Merge, validate, save (the caller commits); SettingsError names the field."""
    merged = _merged(store, patch)
    settings = validate(merged)
    store.settings = {**(store.settings or {}), "referrals": merged}
    session.flush()
    return settings
