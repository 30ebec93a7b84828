"""Store.settings["reviews"]: validated, with defaults. A bad value falls back to its default (and is reported
by `validate_review_settings`, which the admin API uses to refuse it), so a typo never stops the schedule."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.loyalty.api import SettingsError
from app.platform.settings import memoized
from app.platform.settings import merge as _merge
from app.stores.models import Store

PER_ORDER, PER_SHIPMENT = "order", "shipment"


@dataclass(frozen=True)
class ReviewSettings:
    enabled: bool = True
    delay_days: int = 7  # after delivery
    fallback_days: int = 14  # after the (last) shipment when no delivery event ever comes
    reminder_days: int = 5  # after the request, once, only when no review came back
    max_per_customer_30d: int = 2
    auto_publish_threshold: int = 4  # ratings at or above are published at once, the rest held
    mode: str = PER_ORDER  # "order": one request once every parcel is delivered; "shipment": one per parcel
    incentive: str | None = None  # shown on the form (e.g. "10% off your next order"); the reward is loyalty's
    max_photos: int = 3


_INT_RANGES = {
    "delay_days": (0, 120),
    "fallback_days": (1, 180),
    "reminder_days": (1, 60),
    "max_per_customer_30d": (1, 30),
    "auto_publish_threshold": (1, 6),  # 6: never auto-publish
    "max_photos": (0, 10),
}


def validate_review_settings(raw: Any) -> tuple[ReviewSettings, dict[str, str]]:
    """(settings, errors by key) from a raw JSON value."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return ReviewSettings(), {"reviews": "must be an object"}
    for key, (low, high) in _INT_RANGES.items():
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                errors[key] = f"an integer from {low} to {high}"
            else:
                values[key] = value
    if "enabled" in raw:
        if isinstance(raw["enabled"], bool):
            values["enabled"] = raw["enabled"]
        else:
            errors["enabled"] = "true or false"
    if "mode" in raw:
        if raw["mode"] in (PER_ORDER, PER_SHIPMENT):
            values["mode"] = raw["mode"]
        else:
            errors["mode"] = "'order' or 'shipment'"
    if "incentive" in raw:
        value = raw["incentive"]
        if value is None or (isinstance(value, str) and len(value) <= 200):
            values["incentive"] = value or None
        else:
            errors["incentive"] = "text of at most 200 characters"
    unknown = set(raw) - set(_INT_RANGES) - {"enabled", "mode", "incentive"}
    for key in sorted(unknown):
        errors[key] = "unknown setting"
    return ReviewSettings(**values), errors


_validated = memoized(validate_review_settings)


def review_settings(store: Store) -> ReviewSettings:
    raw = (store.settings or {}).get("reviews")
    return _validated(raw)[0] if isinstance(raw, dict) else validate_review_settings(raw)[0]


def _checked(store: Store, patch: Any) -> tuple[dict[str, Any], ReviewSettings]:
    if not isinstance(patch, dict):
        raise SettingsError("must be an object", "reviews")
    current = (store.settings or {}).get("reviews")
    merged = _merge(current if isinstance(current, dict) else {}, patch)
    settings, errors = validate_review_settings(merged)
    if errors:
        field, message = sorted(errors.items())[0]
        raise SettingsError(message, field)
    return merged, settings


def check_update(store: Store, patch: Any) -> ReviewSettings:
    """What update_review_settings would save, validated, with nothing written (the dashboard's preview)."""
    return _checked(store, patch)[1]


def update_review_settings(session: Session, store: Store, patch: Any) -> ReviewSettings:
    """Merge a patch into the stored settings, validate, save (the caller commits). The reader forgives a bad
    value (its default is used); a writer does not: SettingsError names the first bad field, nothing is saved."""
    merged, settings = _checked(store, patch)
    store.settings = {**(store.settings or {}), "reviews": merged}
    session.flush()
    return settings


def as_json(settings: ReviewSettings) -> dict[str, Any]:
    """The effective settings, defaults filled in (what the command and the admin API show)."""
    return asdict(settings)
