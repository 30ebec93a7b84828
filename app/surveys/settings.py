"""Store.settings["surveys"]: the post-delivery survey. A section of the store-wide settings registry
(app/stores/settings.py: `PATCH /admin/api/v1/store/settings`, `flask stores settings`).

    {"enabled": false,          # off by default: a store chooses to ask
     "kind": "nps",             # "nps" (0-10, "how likely to recommend") or "csat" (1-5, "how satisfied")
     "days_after_delivery": 3}  # 0-60
A detractor's answer opens a service-recovery case when the store's recovery is on with "detractors" (app/recovery:
one per order, the coupon and apology the store set there).

Incentives are never tied to the score: promoters are *asked* for a review and shown their referral link,
detractors are *offered* help; nobody is paid for an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.platform.settings import memoized
from app.stores.models import Store
from app.stores.settings import N_, Field, Section, SettingsError

DEFAULTS: dict[str, Any] = {"enabled": False, "kind": "nps", "days_after_delivery": 3}
SCALES = {"nps": (0, 10), "csat": (1, 5)}


@dataclass(frozen=True)
class SurveySettings:
    enabled: bool
    kind: str
    days_after_delivery: int


def clean(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SettingsError("must be an object", "surveys")
    unknown = sorted(set(value) - set(DEFAULTS))
    if unknown:
        raise SettingsError("unknown setting", f"surveys.{unknown[0]}")
    if "enabled" in value and not isinstance(value["enabled"], bool):
        raise SettingsError("true or false", "surveys.enabled")
    if "kind" in value and value["kind"] not in SCALES:
        raise SettingsError("nps or csat", "surveys.kind")
    days = value.get("days_after_delivery", 3)
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 60:
        raise SettingsError("a whole number of days from 0 to 60", "surveys.days_after_delivery")
    return dict(value)


@memoized
def _read(raw: dict[str, Any]) -> SurveySettings:
    try:
        data = {**DEFAULTS, **clean(raw)}
    except SettingsError:
        data = dict(DEFAULTS)  # a bad stored value: the defaults (off) rather than a broken send path
    return SurveySettings(data["enabled"], data["kind"], data["days_after_delivery"])


def get_settings(store: Store) -> SurveySettings:
    raw = (store.settings or {}).get("surveys")
    return _read(raw if isinstance(raw, dict) else {})


def _as_stored(store: Store) -> dict[str, Any]:
    s = get_settings(store)
    return {"enabled": s.enabled, "kind": s.kind, "days_after_delivery": s.days_after_delivery}


def _kinds() -> list[tuple[str, str]]:
    return [("nps", N_("How likely to recommend us, 0-10")), ("csat", N_("How satisfied, 1-5"))]


SECTION = Section(
    "surveys",
    clean,
    _as_stored,
    title=N_("Post-delivery survey"),
    fields=(
        Field("enabled", N_("Ask after delivery"), "bool"),
        Field("kind", N_("Question"), "select", choices=_kinds),
        Field("days_after_delivery", N_("Days after delivery"), "int", N_("From 0 to 60.")),
    ),
    order=80,
)
