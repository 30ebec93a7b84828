"""Where shoppers' messages and the merchant's alerts go: for one kind of alert, its own list
(Store.settings["alerts"][kind]: help requests, low ratings, flagged referrals), else the notification list
(Store.settings["support"]["notify_emails"]), else the store's own e-mail as the platform reports it
(Store.contact_email). The per-kind lists are a store settings section ("alerts", app/stores/settings.py: the
admin API's PATCH /store/settings and the dashboard's Store settings page).

The list is validated when it is written (admin API, CLI): real addresses only (an ASCII addr-spec with a dotted
domain, RFC 5321 section 4.1.2 https://www.rfc-editor.org/rfc/rfc5321#section-4.1.2), at most MAX_NOTIFY_EMAILS,
lower-cased and without duplicates. What is read back is validated again (a hand-edited value, an address the
platform sent), so a bad value means "no address", never a message enqueued to fail.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.errors import Refused
from app.platform.settings import clean_address
from app.stores.models import Store
from app.stores.settings import N_, Field, Section
from app.stores.settings import SettingsError as StoreSettingsError
from app.support.models import FLAGGED_REFERRAL, HELP, LOW_RATING

MAX_NOTIFY_EMAILS = 5
ALERT_KINDS = (HELP, LOW_RATING, FLAGGED_REFERRAL)


class SettingsError(Refused, ValueError):
    code = "invalid"  # as the loyalty and referral settings answer a refused value

    def __init__(self, message: str, field: str) -> None:
        super().__init__(f"{field}: {message}", field=field)
        self.message = message
        self.field = field


def validate_notify_emails(value: Any, field: str = "notify_emails") -> list[str]:
    """The list to store; SettingsError names what is wrong."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise SettingsError("a list of e-mail addresses", field)
    cleaned: list[str] = []
    for item in value:
        address = clean_address(item)
        if address is None:
            raise SettingsError(f"not an e-mail address: {str(item)[:80]!r}", field)
        if address not in cleaned:
            cleaned.append(address)
    if len(cleaned) > MAX_NOTIFY_EMAILS:
        raise SettingsError(f"at most {MAX_NOTIFY_EMAILS} addresses", field)
    return cleaned


def notify_emails(store: Store) -> list[str]:
    """The stored list, each address checked again; an invalid stored value counts as empty."""
    raw = (store.settings or {}).get("support")
    value = raw.get("notify_emails") if isinstance(raw, dict) else None
    try:
        return validate_notify_emails(value)
    except SettingsError:
        return []


def alert_emails(store: Store, kind: str) -> list[str]:
    """The stored list of one kind of alert, each address checked again (an invalid value counts as empty)."""
    raw = (store.settings or {}).get("alerts")
    try:
        return validate_notify_emails(raw.get(kind) if isinstance(raw, dict) else None)
    except SettingsError:
        return []


def recipients(store: Store, kind: str | None = None) -> list[str]:
    """Who gets an alert of `kind` now: its own list, else the notification list, else the store's e-mail, else
    nobody."""
    listed = (alert_emails(store, kind) if kind else []) or notify_emails(store)
    if listed:
        return listed
    contact = clean_address(store.contact_email)
    return [contact] if contact else []


def as_json(store: Store) -> dict[str, Any]:
    return {"notify_emails": notify_emails(store), "store_email": store.contact_email, "recipients": recipients(store)}


def update_settings(session: Session, store: Store, patch: Any) -> dict[str, Any]:
    """Merge {"notify_emails": [...]} into Store.settings["support"] (the caller commits)."""
    if not isinstance(patch, dict):
        raise SettingsError("must be an object", "support")
    unknown = sorted(set(patch) - {"notify_emails"})
    if unknown:
        raise SettingsError("unknown setting", unknown[0])
    current = (store.settings or {}).get("support")
    merged = dict(current) if isinstance(current, dict) else {}
    if "notify_emails" in patch:
        merged["notify_emails"] = validate_notify_emails(patch["notify_emails"])
    store.settings = {**(store.settings or {}), "support": merged}
    session.flush()
    return as_json(store)


def clean_alerts(value: Any) -> dict[str, list[str]]:
    """Store.settings["alerts"] to store: a list per kind (validated as the notification list is); an empty list
    drops the kind (the notification list applies)."""
    if not isinstance(value, dict):
        raise StoreSettingsError("must be an object", "alerts")
    unknown = sorted(set(value) - set(ALERT_KINDS))
    if unknown:
        raise StoreSettingsError("unknown setting", f"alerts.{unknown[0]}")
    cleaned: dict[str, list[str]] = {}
    for kind in ALERT_KINDS:
        try:
            listed = validate_notify_emails(value.get(kind), f"alerts.{kind}")
        except SettingsError as exc:
            raise StoreSettingsError(exc.message, exc.field) from exc
        if listed:
            cleaned[kind] = listed
    return cleaned


def show_alerts(store: Store) -> dict[str, list[str]]:
    return {kind: alert_emails(store, kind) for kind in ALERT_KINDS}


def clean_support(value: Any) -> dict[str, list[str]]:
    """Store.settings["support"] as a store settings section: the same list and rule as PATCH /support/settings,
    so the dashboard's Store settings page sets it too."""
    if not isinstance(value, dict):
        raise StoreSettingsError("must be an object", "support")
    unknown = sorted(set(value) - {"notify_emails"})
    if unknown:
        raise StoreSettingsError("unknown setting", f"support.{unknown[0]}")
    try:
        return {"notify_emails": validate_notify_emails(value.get("notify_emails"), "support.notify_emails")}
    except SettingsError as exc:
        raise StoreSettingsError(exc.message, exc.field) from exc


#: Registered by support's init_app, beside the alerts' section.
SUPPORT_SECTION = Section(
    "support",
    clean_support,
    lambda store: {"notify_emails": notify_emails(store)},
    title=N_("Notifications"),
    fields=(
        Field(
            "notify_emails",
            N_("Notification e-mails"),
            "lines",
            N_(
                "Shoppers' messages and the alerts without a list of their own. One address a line, at most 5; "
                "empty: the store's e-mail."
            ),  # fmt: skip
        ),
    ),
    order=35,
)

_HINT = N_("One address a line, at most 5; empty: the notification list, else the store's e-mail.")
#: Registered by support's init_app.
SECTION = Section(
    "alerts",
    clean_alerts,
    show_alerts,
    title=N_("Alert recipients"),
    fields=(
        Field(LOW_RATING, N_("Low-rating alerts"), "lines", _HINT),
        Field(HELP, N_("Help requests"), "lines", _HINT),
        Field(FLAGGED_REFERRAL, N_("Flagged referrals"), "lines", _HINT),
    ),
    order=40,
)
