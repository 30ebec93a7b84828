"""Loyalty's section of the dashboard's Programmes page (app/dashboard/programmes.py): the form, and what the
widget shows a sample shopper under the form's settings.

The form is checked and saved by the admin API's own code (settings.check_update, admin.save_settings), so a
value `PATCH /admin/api/v1/loyalty/settings` refuses is refused here with the same message. The sample shopper
signed up 40 days ago, ordered 120.00 in the store's currency 20 days ago and reviewed it 10 days ago: their
points come from the same earn rule as a real order's (orders.points_for), pending while the return window
lasts, and their tier and progress from tiers.target_rank / tiers.progress.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.dashboard.forms import BOOL, CHOICE, DECIMAL, INT, KEY, TEXT
from app.dashboard.i18n import N_, gettext
from app.dashboard.programmes import Preview, Programme, register_programme
from app.dashboard.registry import add_template_folder
from app.loyalty.admin import save_settings
from app.loyalty.orders import points_for
from app.loyalty.settings import LoyaltySettings, as_json, check_update, get_settings
from app.loyalty.tiers import progress, target_rank
from app.stores.models import Store

SAMPLE_ORDER = Decimal("120.00")
ORDER_AGE_DAYS = 20
KINDS = {
    "enabled": BOOL,
    "points_per_unit.default": DECIMAL,
    "points_per_unit[].currency": KEY,  # the other currencies' rates: one row each (forms.py's keyed lists)
    "points_per_unit[].rate": DECIMAL,
    "basis": CHOICE,
    "rounding": CHOICE,
    "actions.signup": INT,
    "actions.review": INT,
    "actions.birthday": INT,
    "return_window_days": INT,
    "fulfilled_fallback_days": INT,
    "expiry.inactive_months": INT,
    "expiry.reminder_days": INT,
    "code_expiry_days": INT,
    "rewards[].id": TEXT,
    "rewards[].type": CHOICE,
    "rewards[].points": INT,
    "rewards[].value": DECIMAL,
    "rewards[].currency": TEXT,
    "tiers[].name": TEXT,
    "tiers[].threshold": DECIMAL,
    "tiers[].basis": CHOICE,
    "tiers[].window": CHOICE,
    "tiers[].multiplier": DECIMAL,
    "tiers[].reward_points": INT,
}
#: The shipped languages (app/translations; the template names each in itself): one field each for
#: `pending_text`, the Shopify blocks' words for points in the return window (blank: removed, the block's own).
LANGUAGES = ("en", "pl", "hu", "lv", "kk", "th")
KINDS.update({f"pending_text.{code}": TEXT for code in LANGUAGES})


def _current(store: Store) -> dict[str, Any]:
    return as_json(get_settings(store))


def _preview(store: Store, settings: LoyaltySettings, preview: Preview) -> None:
    if not settings.enabled:
        preview.notes.append(gettext("Loyalty is off: the widget shows no points and asks shoppers to log in."))
        return
    now = datetime.now(UTC)
    currency = store.currency or "EUR"
    rule = {"basis": str(SAMPLE_ORDER), "rate": str(settings.rate(currency)), "multiplier": "1",
            "rounding": settings.rounding}  # fmt: skip
    earned = points_for(rule)
    pending = earned if settings.return_window_days > ORDER_AGE_DAYS else 0
    rows = [("action", settings.actions["signup"], 40), ("earn", earned, ORDER_AGE_DAYS),
            ("action", settings.actions["review"], 10)]  # fmt: skip
    given = sum(points for _kind, points, _age in rows)
    figures = {(basis, window): Decimal(given) if basis == "points_earned" else SAMPLE_ORDER
               for basis in ("points_earned", "amount_spent") for window in ("lifetime", "rolling_12m")}  # fmt: skip
    rank = target_rank(settings, figures)
    tier = settings.tiers[rank].name if rank is not None else None
    nxt = progress(settings, tier, figures)
    if nxt is not None:
        nxt["currency"] = currency if nxt["basis"] == "amount_spent" else None
    preview.balance = {"pending": pending, "spendable": given - pending, "expiring_30d": 0, "expires_at": None,
                       "tier": tier, "progress": nxt}  # fmt: skip
    preview.activity = [
        {"kind": kind, "points": points, "at": (now - timedelta(days=age)).isoformat()}
        for kind, points, age in reversed(rows)
        if points
    ]
    preview.rewards = [
        {"id": r.id, "type": r.type, "points": r.points, "value": None if r.value is None else format(r.value, "f"),
         "currency": r.currency}
        for r in settings.rewards
    ]  # fmt: skip
    preview.notes.append(
        gettext(
            "An order of %(amount)s %(currency)s earns %(points)s points.",
            amount=str(SAMPLE_ORDER),
            currency=currency,
            points=earned,
        )  # fmt: skip
    )
    for other, rate in sorted(settings.points_per_unit.items()):
        if other not in ("default", currency):
            shown = format(rate, "f")  # "10", never "1E+1"
            preview.notes.append(
                gettext("Orders in %(currency)s earn %(rate)s points per 1 %(currency)s.", currency=other, rate=shown)
            )
    if settings.inactive_months:
        preview.notes.append(
            gettext("Months without activity before points expire: %(months)s.", months=settings.inactive_months)
        )
    else:
        preview.notes.append(gettext("Points never expire."))


def register() -> None:
    add_template_folder("loyalty", Path(__file__).resolve().parent / "templates")
    register_programme(
        Programme(
            key="loyalty",
            title=N_("Loyalty"),
            order=10,
            template="loyalty_dashboard/programme.html",
            kinds=KINDS,
            current=_current,
            check=check_update,
            save=save_settings,
            preview=_preview,
        )
    )
