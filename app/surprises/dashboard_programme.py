"""Surprises' section of the dashboard's Programmes page (app/dashboard/programmes.py): the thresholds, checked and
saved by the admin API's own code (settings.check_update, admin.save_settings). The widget shows nothing of it (a
surprise arrives as a message), so the preview says in words what each threshold gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.dashboard.forms import BOOL, CHOICE, DECIMAL, INT, TEXT
from app.dashboard.i18n import N_, gettext
from app.dashboard.programmes import Preview, Programme, register_programme
from app.dashboard.registry import add_template_folder
from app.stores.models import Store
from app.surprises.admin import save_settings
from app.surprises.settings import SurpriseSettings, Threshold, check_update, get_settings, show

KINDS = {
    "enabled": BOOL,
    "thresholds[].order": INT,
    "thresholds[].kind": CHOICE,
    "thresholds[].value": DECIMAL,
    "thresholds[].points": INT,
    "thresholds[].expires_days": INT,
    "thresholds[].segment": TEXT,
}


def _current(store: Store) -> dict[str, Any]:
    return show(get_settings(store))


def _gift(threshold: Threshold, store: Store) -> str:
    if threshold.kind == "points":
        return gettext("%(points)s points", points=threshold.points)
    if threshold.kind == "free_shipping":
        return gettext("free shipping on the next order")
    if threshold.kind == "percentage":
        return gettext("%(value)s%% off the next order", value=format(threshold.value.normalize(), "f"))
    return gettext(
        "%(value)s off the next order, in the order's currency", value=format(threshold.value, "f")
    )  # fmt: skip


def _preview(store: Store, settings: SurpriseSettings, preview: Preview) -> None:
    if not settings.enabled or not settings.thresholds:
        preview.notes.append(gettext("Surprises are off: no customer is surprised."))
        return
    for threshold in settings.thresholds:
        if threshold.segment:
            note = gettext(
                "A customer's order number %(n)s, if they are in the segment %(segment)s: %(gift)s.",
                n=threshold.order, segment=threshold.segment, gift=_gift(threshold, store),
            )  # fmt: skip
        else:
            note = gettext(
                "A customer's order number %(n)s: %(gift)s.", n=threshold.order, gift=_gift(threshold, store)
            )
        preview.notes.append(note)


def register() -> None:
    add_template_folder("surprises", Path(__file__).resolve().parent / "templates")
    register_programme(
        Programme(
            key="surprises",
            title=N_("Repeat-customer surprises"),
            order=40,
            template="surprises_dashboard/programme.html",
            kinds=KINDS,
            current=_current,
            check=check_update,
            save=save_settings,
            preview=_preview,
        )
    )
