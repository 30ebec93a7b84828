"""Store.settings["recovery"]: whether cases are opened, and the coupon a case gives. A section of the store-wide
settings registry (app/stores/settings.py: `PATCH /admin/api/v1/store/settings`, `flask stores settings`), so the
writer refuses what the reader would not use; the reader forgives a hand-edited value field by field.

    {"enabled": false,               # no case is opened while off (any programme's)
     "late_parcels": true,           # the delivery journey opens cases for late parcels and carrier failures
     "detractors": true,             # a survey's detractor answer opens one (app/surveys)
     "low_ratings": true,            # a 1-2 star review opens one (app/reviews)
     "grace_hours": 24,              # how long after the promised delivery a parcel counts as late
     "coupon": {"kind": "percentage" | "fixed_amount", "value": "10", "expires_days": 60}}

A fixed amount is in the order's currency (Decimal as a string: money is never a float).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.platform.settings import memoized
from app.stores.models import Store
from app.stores.settings import N_, Field, Section, SettingsError, coupon_value

KINDS = ("percentage", "fixed_amount")
TOGGLES = ("enabled", "late_parcels", "detractors", "low_ratings")
MAX_GRACE_HOURS = 24 * 30
MAX_EXPIRY_DAYS = 3650


@dataclass(frozen=True)
class RecoverySettings:
    enabled: bool = False
    late_parcels: bool = True
    detractors: bool = True
    low_ratings: bool = True
    grace_hours: int = 24
    coupon_kind: str = "percentage"
    coupon_value: Decimal = Decimal("10")
    expires_days: int = 60


DEFAULTS = RecoverySettings()


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise SettingsError("true or false", field)
    return value


def _int(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(f"a whole number from {low} to {high}", field)
    return value


def _value(value: Any, kind: str) -> Decimal:
    return coupon_value(value, kind, "recovery.coupon.value")


def clean(value: Any) -> dict[str, Any]:
    """What to store (the writer's rule); SettingsError names the first bad field."""
    if not isinstance(value, dict):
        raise SettingsError("must be an object", "recovery")
    unknown = sorted(set(value) - {*TOGGLES, "grace_hours", "coupon"})
    if unknown:
        raise SettingsError("unknown setting", f"recovery.{unknown[0]}")
    out: dict[str, Any] = {}
    for key in TOGGLES:
        if key in value:
            out[key] = _bool(value[key], f"recovery.{key}")
    if "grace_hours" in value:
        out["grace_hours"] = _int(value["grace_hours"], "recovery.grace_hours", 0, MAX_GRACE_HOURS)
    if "coupon" in value:
        coupon = value["coupon"]
        if not isinstance(coupon, dict):
            raise SettingsError("must be an object", "recovery.coupon")
        bad = sorted(set(coupon) - {"kind", "value", "expires_days"})
        if bad:
            raise SettingsError("unknown setting", f"recovery.coupon.{bad[0]}")
        kind = coupon.get("kind", DEFAULTS.coupon_kind)
        if kind not in KINDS:
            raise SettingsError(f"one of {', '.join(KINDS)}", "recovery.coupon.kind")
        cleaned: dict[str, Any] = {"kind": kind, "value": str(_value(coupon.get("value", "10"), kind))}
        if "expires_days" in coupon:
            cleaned["expires_days"] = _int(coupon["expires_days"], "recovery.coupon.expires_days", 1, MAX_EXPIRY_DAYS)
        out["coupon"] = cleaned
    return out


@memoized
def _read(raw: dict[str, Any]) -> RecoverySettings:
    fields: dict[str, Any] = {}
    for key in (*TOGGLES, "grace_hours"):
        try:  # a hand-edited bad value reads as the default for that field
            if key == "grace_hours" and key in raw:
                fields[key] = _int(raw[key], key, 0, MAX_GRACE_HOURS)
            elif key in raw:
                fields[key] = _bool(raw[key], key)
        except SettingsError:
            pass
    coupon = raw.get("coupon")
    if isinstance(coupon, dict):
        try:
            kind = coupon.get("kind", DEFAULTS.coupon_kind)
            if kind not in KINDS:
                raise SettingsError("kind", "kind")
            fields["coupon_kind"], fields["coupon_value"] = kind, _value(coupon.get("value", "10"), kind)
        except SettingsError:
            pass
        try:
            if "expires_days" in coupon:
                fields["expires_days"] = _int(coupon["expires_days"], "expires_days", 1, MAX_EXPIRY_DAYS)
        except SettingsError:
            pass
    return RecoverySettings(**fields)


def get_settings(store: Store) -> RecoverySettings:
    raw = (store.settings or {}).get("recovery")
    return _read(raw if isinstance(raw, dict) else {})


def show(store: Store) -> dict[str, Any]:
    found = get_settings(store)
    return {
        "enabled": found.enabled,
        "late_parcels": found.late_parcels,
        "detractors": found.detractors,
        "low_ratings": found.low_ratings,
        "grace_hours": found.grace_hours,
        "coupon": {"kind": found.coupon_kind, "value": str(found.coupon_value), "expires_days": found.expires_days},
    }


def _coupon_kinds() -> list[tuple[str, str]]:
    return [("percentage", N_("Percent off")), ("fixed_amount", N_("Amount off"))]


SECTION = Section(
    "recovery",
    clean,
    show,
    title=N_("Service recovery"),
    fields=(
        Field("enabled", N_("Open a case when something went wrong"), "bool"),
        Field("late_parcels", N_("Late parcels and carrier failures"), "bool"),
        Field("detractors", N_("Unhappy survey answers"), "bool"),
        Field("low_ratings", N_("Reviews of 1 or 2 stars"), "bool"),
        Field("grace_hours", N_("Hours after the promised delivery before a parcel is late"), "int"),
        Field("coupon.kind", N_("Apology coupon"), "select", choices=_coupon_kinds),
        Field("coupon.value", N_("Coupon value"), "text", N_("A percentage, or an amount in the order's currency.")),
        Field("coupon.expires_days", N_("Days the code stays valid"), "int"),
    ),
    order=70,
)
