"""Store.settings["surprises"]: which of a customer's orders earn a surprise, and what it is; validated on write,
decimals as strings (docs/surprises.md#settings).

    {"enabled": false,
     "started_at": "2026-12-07T05:00:00+00:00",   # written when the programme is turned on; not patchable
     "thresholds": [                               # at most 10, each order number once
        {"order": 2, "kind": "percentage", "value": "10", "expires_days": 60},
        {"order": 5, "kind": "free_shipping", "segment": "vip"},
        {"order": 10, "kind": "points", "points": 500}]}

`order` is the customer's Nth paid order that stands (records: cancelled and deleted ones do not count); `kind`
is percentage | fixed_amount (in the order's currency) | free_shipping (a code for the next order) | points (through
the loyalty ledger); `segment` (optional) a segment key (app/segments) the customer must be in when the order is
decided. Only orders paid at or after `started_at` earn one, so turning the programme on never surprises every
repeat customer for orders paid long ago.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.platform.settings import memoized
from app.platform.settings import merge as _merge
from app.segments.api import find
from app.stores.models import Store
from app.stores.settings import SettingsError, coupon_value
from app.surprises.models import KINDS

MAX_THRESHOLDS = 10
MAX_ORDER = 1000
MAX_POINTS = 10_000_000
MAX_EXPIRY_DAYS = 3650
SEGMENT_KEY = re.compile(r"^[a-z0-9_]{1,40}$")
FIELDS = ("order", "kind", "value", "points", "expires_days", "segment")
DEFAULTS: dict[str, Any] = {"enabled": False, "thresholds": []}


@dataclass(frozen=True)
class Threshold:
    order: int
    kind: str
    value: Decimal  # percentage or amount; 0 for free shipping and points
    points: int  # 0 unless kind == "points"
    expires_days: int
    segment: str | None


@dataclass(frozen=True)
class SurpriseSettings:
    enabled: bool
    started_at: datetime | None
    thresholds: tuple[Threshold, ...]
    raw: dict[str, Any]

    def threshold(self, order: int) -> Threshold | None:
        return next((t for t in self.thresholds if t.order == order), None)


def _int(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(f"a whole number from {low} to {high}", field)
    return value


def _value(value: Any, kind: str, field: str) -> Decimal:
    return coupon_value(value, kind, field)


def _threshold(raw: Any, where: str) -> Threshold:
    if not isinstance(raw, dict):
        raise SettingsError("must be an object", where)
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise SettingsError("unknown setting", f"{where}.{unknown[0]}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise SettingsError(f"one of {', '.join(KINDS)}", f"{where}.kind")
    segment = raw.get("segment")
    if segment is not None and (not isinstance(segment, str) or not SEGMENT_KEY.match(segment)):
        raise SettingsError("a segment key (a-z, 0-9, _), or null", f"{where}.segment")
    coded = kind in ("percentage", "fixed_amount")
    return Threshold(
        order=_int(raw.get("order"), f"{where}.order", 1, MAX_ORDER),
        kind=kind,
        value=_value(raw.get("value"), kind, f"{where}.value") if coded else Decimal("0"),
        points=_int(raw.get("points"), f"{where}.points", 1, MAX_POINTS) if kind == "points" else 0,
        expires_days=_int(raw.get("expires_days", 60), f"{where}.expires_days", 1, MAX_EXPIRY_DAYS),
        segment=segment or None,
    )


def validate(raw: Any) -> SurpriseSettings:
    if not isinstance(raw, dict):
        raise SettingsError("must be an object", "surprises")
    unknown = sorted(set(raw) - {"enabled", "started_at", "thresholds"})
    if unknown:
        raise SettingsError("unknown setting", unknown[0])
    data = _merge(copy.deepcopy(DEFAULTS), raw)
    if not isinstance(data["enabled"], bool):
        raise SettingsError("true or false", "enabled")
    started = data.get("started_at")
    try:
        started_at = datetime.fromisoformat(started) if isinstance(started, str) else None
    except ValueError:
        started_at = None
    if started_at is not None and started_at.utcoffset() is None:
        started_at = None
    listed = data["thresholds"]
    if not isinstance(listed, list):
        raise SettingsError("a list", "thresholds")
    if len(listed) > MAX_THRESHOLDS:
        raise SettingsError(f"at most {MAX_THRESHOLDS}", "thresholds")
    thresholds = [_threshold(item, f"thresholds[{n}]") for n, item in enumerate(listed)]
    seen: set[int] = set()
    for n, found in enumerate(thresholds):
        if found.order in seen:
            raise SettingsError("each order number once", f"thresholds[{n}].order")
        seen.add(found.order)
    ordered = tuple(sorted(thresholds, key=lambda t: t.order))
    return SurpriseSettings(enabled=data["enabled"], started_at=started_at, thresholds=ordered, raw=data)


_validated = memoized(validate)
OFF = SurpriseSettings(enabled=False, started_at=None, thresholds=(), raw=copy.deepcopy(DEFAULTS))


def get_settings(store: Store) -> SurpriseSettings:
    """The reader: a hand-edited value the writer would refuse turns the programme off (never a surprise by a rule
    nobody chose)."""
    raw = (store.settings or {}).get("surprises")
    try:
        return _validated(raw if isinstance(raw, dict) else {})
    except SettingsError:
        return OFF


def _merged(store: Store, patch: Any, now: datetime | None) -> dict[str, Any]:
    if not isinstance(patch, dict):
        raise SettingsError("must be an object", "surprises")
    if "started_at" in patch:
        raise SettingsError("set when the programme is turned on", "started_at")
    stored = (store.settings or {}).get("surprises")
    stored = stored if isinstance(stored, dict) else {}
    merged = _merge(stored, patch)
    if merged.get("enabled") is True and (stored.get("enabled") is not True or not stored.get("started_at")):
        merged["started_at"] = (now or datetime.now().astimezone()).isoformat()  # counted from now on
    return merged


def check_update(store: Store, patch: Any) -> SurpriseSettings:
    """What update_settings would save, validated, with nothing written (the dashboard's preview)."""
    return validate(_merged(store, patch, None))


def update_settings(session: Session, store: Store, patch: Any, now: datetime) -> SurpriseSettings:
    """Merge, validate, save (the caller commits); SettingsError names the field. A threshold's segment must be
    one of the store's segments (app/segments)."""
    merged = _merged(store, patch, now)
    settings = validate(merged)
    for n, item in enumerate(merged.get("thresholds") or []):
        key = item.get("segment")
        if key and find(session, store, key) is None:
            raise SettingsError("no such segment in this store", f"thresholds[{n}].segment")
    store.settings = {**(store.settings or {}), "surprises": merged}
    session.flush()
    return settings


def show(settings: SurpriseSettings) -> dict[str, Any]:
    """The effective settings, as the admin API answers them."""
    return {
        "enabled": settings.enabled,
        "started_at": settings.started_at.isoformat() if settings.started_at else None,
        "thresholds": [
            {
                "order": t.order,
                "kind": t.kind,
                **({"value": str(t.value)} if t.kind in ("percentage", "fixed_amount") else {}),
                **({"points": t.points} if t.kind == "points" else {"expires_days": t.expires_days}),
                "segment": t.segment,
            }
            for t in settings.thresholds
        ],
    }
