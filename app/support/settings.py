"""Where shoppers' messages go: Store.settings["support"]["notify_emails"], the merchant's notification list,
else the store's own e-mail as the platform reports it (Store.contact_email).

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

MAX_NOTIFY_EMAILS = 5


class SettingsError(Refused, ValueError):
    code = "invalid"  # as the loyalty and referral settings answer a refused value

    def __init__(self, message: str, field: str) -> None:
        super().__init__(f"{field}: {message}", field=field)
        self.message = message
        self.field = field


def validate_notify_emails(value: Any) -> list[str]:
    """The list to store; SettingsError names what is wrong."""
    field = "notify_emails"
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


def recipients(store: Store) -> list[str]:
    """Who gets a shopper's message now: the notification list, else the store's e-mail, else nobody."""
    listed = notify_emails(store)
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
