"""Referrals' section of the dashboard's Programmes page (app/dashboard/programmes.py): both sides' rewards and
the fraud rules, checked and saved by the admin API's own code (settings.check_update, admin.save_settings).
The widget shows the sample shopper's share link; both sides' rewards and the fraud rules are said under it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app

from app.dashboard.forms import BOOL, CHOICE, DECIMAL, INT, TEXT
from app.dashboard.i18n import N_, gettext
from app.dashboard.programmes import Preview, Programme, register_programme
from app.dashboard.registry import add_template_folder
from app.referrals.admin import save_settings
from app.referrals.settings import Discount, ReferralSettings, check_update, get_settings
from app.stores.models import Store

SAMPLE_CODE = "SAMPLE2024"
KINDS = {
    "enabled": BOOL,
    "auto_create": BOOL,
    "friend_discount.kind": CHOICE,
    "friend_discount.value": DECIMAL,
    "friend_discount.currency": TEXT,
    "friend_discount.minimum_subtotal": DECIMAL,
    "friend_discount.expires_days": INT,
    "reward.type": CHOICE,
    "reward.points": INT,
    "reward.kind": CHOICE,
    "reward.value": DECIMAL,
    "reward.currency": TEXT,
    "velocity.max": INT,
    "velocity.hours": INT,
    "friend_codes_per_day": INT,
}


def _current(store: Store) -> dict[str, Any]:
    return get_settings(store).raw


def _discount(discount: Discount, store: Store) -> str:
    if discount.kind == "free_shipping":
        return gettext("free shipping")
    if discount.kind == "percentage":
        return gettext("%(value)s%% off", value=format(discount.value.normalize(), "f"))
    currency = discount.currency or store.currency or ""
    return gettext("%(value)s %(currency)s off", value=format(discount.value, "f"), currency=currency)


def _preview(store: Store, settings: ReferralSettings, preview: Preview) -> None:
    if not settings.enabled:
        preview.notes.append(gettext("Referrals are off: the widget shows no referral link."))
        return
    base = str(current_app.config.get("APP_URL", "")).rstrip("/")
    preview.referral = {"code": SAMPLE_CODE, "share_url": f"{base}/ref/{SAMPLE_CODE}"}
    if settings.reward_type == "points":
        reward = gettext("%(points)s points", points=settings.reward_points)
    else:
        reward = _discount(settings.reward_discount, store)
    preview.notes.append(
        gettext(
            "A referred friend gets %(friend)s on a first order; the referrer gets %(reward)s.",
            friend=_discount(settings.friend_discount, store),
            reward=reward,
        )  # fmt: skip
    )
    preview.notes.append(
        gettext(
            "More than %(max)s referrals by one shopper within %(hours)s hours are held for your review.",
            max=settings.velocity_max,
            hours=settings.velocity_hours,
        )  # fmt: skip
    )


def register() -> None:
    add_template_folder("referrals", Path(__file__).resolve().parent / "templates")
    register_programme(
        Programme(
            key="referrals",
            title=N_("Referrals"),
            order=20,
            template="referrals_dashboard/programme.html",
            kinds=KINDS,
            current=_current,
            check=check_update,
            save=save_settings,
            preview=_preview,
        )
    )
