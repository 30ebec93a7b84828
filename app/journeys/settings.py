"""Store.settings["delivery_updates"]: which delivery messages a store sends. A section of the store-wide settings
registry (app/stores/settings.py: `PATCH /admin/api/v1/store/settings`, `flask stores settings`).

    {"enabled": false,                     # the journey as a whole (off: states are still recorded, nothing sent)
     "shipped": true, "out_for_delivery": true, "delivered": true,
     "attempted": true, "failed": true, "delayed": true}      # each message on its own

Off by default: a store chooses to tell its customers (its platform may already send shipping e-mails).
"""

from __future__ import annotations

from typing import Any

from app.journeys.states import ATTEMPTED, DELAYED, DELIVERED, FAILED, MESSAGED, OUT_FOR_DELIVERY, SHIPPED
from app.platform.settings import memoized
from app.stores.models import Store
from app.stores.settings import N_, Field, Section, SettingsError

FIELDS = ("enabled", *MESSAGED)
DEFAULTS: dict[str, bool] = {"enabled": False, **dict.fromkeys(MESSAGED, True)}


def clean(value: Any) -> dict[str, bool]:
    if not isinstance(value, dict):
        raise SettingsError("must be an object", "delivery_updates")
    unknown = sorted(set(value) - set(FIELDS))
    if unknown:
        raise SettingsError("unknown setting", f"delivery_updates.{unknown[0]}")
    for key, item in value.items():
        if not isinstance(item, bool):
            raise SettingsError("true or false", f"delivery_updates.{key}")
    return dict(value)


@memoized
def _read(raw: dict[str, Any]) -> dict[str, bool]:
    return {key: raw[key] if isinstance(raw.get(key), bool) else default for key, default in DEFAULTS.items()}


def get_settings(store: Store) -> dict[str, bool]:
    raw = (store.settings or {}).get("delivery_updates")
    return _read(raw if isinstance(raw, dict) else {})


def wanted(settings: dict[str, bool], state: str) -> bool:
    return settings["enabled"] and settings.get(state, False)


SECTION = Section(
    "delivery_updates",
    clean,
    get_settings,
    title=N_("Delivery updates"),
    fields=(
        Field("enabled", N_("Send delivery updates"), "bool", N_("Off: states are recorded, nothing is sent.")),
        Field(SHIPPED, N_("Shipped"), "bool"),
        Field(OUT_FOR_DELIVERY, N_("Out for delivery"), "bool"),
        Field(DELIVERED, N_("Delivered"), "bool"),
        Field(ATTEMPTED, N_("Delivery attempted"), "bool"),
        Field(FAILED, N_("Delivery failed"), "bool"),
        Field(DELAYED, N_("Delayed"), "bool"),
    ),
    order=60,
)
