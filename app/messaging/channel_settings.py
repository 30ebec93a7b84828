"""Store.settings["channels"]: which channels a store sends on and the limits on how often.

    {"order": ["whatsapp", "sms", "email"],      # tried in this order after the customer's own preference
     "quiet_hours": {"start": "21:00", "end": "08:00"} | null,   # the store's local time (Store.timezone)
     "daily_cap": 3}                              # capped messages per customer per local day

Defaults: order ["email"] (SMS and WhatsApp cost money: a merchant turns them on), quiet hours 21:00-08:00,
cap 3. Written through `PATCH /admin/api/v1/store/settings` like the other sections (stores/settings.py).
"""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from app.messaging.models import CHANNELS, EMAIL
from app.stores.settings import N_, Field, Section, SettingsError

DEFAULT_ORDER = (EMAIL,)
DEFAULT_QUIET = ("21:00", "08:00")
DEFAULT_CAP = 3
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


def _order(value: Any) -> list[str]:
    if (
        not isinstance(value, list)
        or not value
        or any(v not in CHANNELS for v in value)
        or len(set(value)) != len(value)
    ):
        raise SettingsError(f"a list of distinct channels among {', '.join(CHANNELS)}", "channels.order")
    return list(value)


def _quiet(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    ok = isinstance(value, dict) and set(value) == {"start", "end"}
    if not ok or not all(isinstance(v, str) and _HHMM.match(v) for v in value.values()):
        raise SettingsError('{"start": "HH:MM", "end": "HH:MM"} or null', "channels.quiet_hours")
    return {"start": value["start"], "end": value["end"]}


def _cap(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 50:
        raise SettingsError("a whole number from 1 to 50", "channels.daily_cap")
    return value


def clean(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SettingsError("must be an object", "channels")
    unknown = sorted(set(value) - {"order", "quiet_hours", "daily_cap"})
    if unknown:
        raise SettingsError("unknown setting", f"channels.{unknown[0]}")
    cleaned: dict[str, Any] = {}
    if "order" in value:
        cleaned["order"] = _order(value["order"])
    if "quiet_hours" in value:
        cleaned["quiet_hours"] = _quiet(value["quiet_hours"])
    if "daily_cap" in value:
        cleaned["daily_cap"] = _cap(value["daily_cap"])
    return cleaned


def channel_settings(settings: dict[str, Any] | None) -> dict[str, Any]:
    """The effective settings (a bad stored value reads as its default)."""
    raw = (settings or {}).get("channels")
    raw = raw if isinstance(raw, dict) else {}
    values: dict[str, Any] = {
        "order": list(DEFAULT_ORDER),
        "quiet_hours": dict(zip(("start", "end"), DEFAULT_QUIET, strict=True)),
    }
    values["daily_cap"] = DEFAULT_CAP
    for key, check in (("order", _order), ("quiet_hours", _quiet), ("daily_cap", _cap)):
        if key in raw:
            try:
                values[key] = check(raw[key])
            except SettingsError:
                pass
    return values


def quiet_window(settings: dict[str, Any] | None) -> tuple[time, time] | None:
    quiet = channel_settings(settings)["quiet_hours"]
    if not quiet:
        return None
    return tuple(time.fromisoformat(quiet[k]) for k in ("start", "end"))  # type: ignore[return-value]


SECTION = Section(
    "channels",
    clean,
    lambda store: channel_settings(store.settings),
    title=N_("Sending"),
    fields=(
        Field("order", N_("Channels, in order"), "lines", N_("One a line: email, sms, whatsapp.")),
        Field("quiet_hours.start", N_("Quiet hours from"), "text", N_("HH:MM, the store's time zone.")),
        Field("quiet_hours.end", N_("Quiet hours until"), "text", N_("Both empty: no quiet hours.")),
        Field("daily_cap", N_("Messages per customer a day"), "int", N_("From 1 to 50.")),
    ),
    order=45,
)
