"""Store-wide settings that belong to no programme: one section per key of Store.settings, registered by the
package that reads it (messaging: "branding", "email", "locale"; stores: "storefront"), so a value is written
through the same rule its reader applies.

The admin API (`GET|PATCH /admin/api/v1/store/settings`) and `flask stores settings` show and change them: a patch
names sections; an object section merges key by key (app/platform/settings.merge), a string or list replaces, null
removes the section (its reader's default applies). Every section of the patch is cleaned before anything is
saved; SettingsError (422, `field`) names the first bad one. The programmes keep their own endpoints.

A section also says how a form shows it (`title`, `fields`: the dashboard's Store settings page renders every
section from them and sends what the merchant typed through update_store_settings, the same rule as the API).
Their labels are English, marked with N_ for extraction and translated where they are shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from app.errors import Refused
from app.platform.settings import merge
from app.stores.models import Store


class SettingsError(Refused, ValueError):
    code = "invalid"  # as the programmes' settings answer a refused value

    def __init__(self, message: str, field: str) -> None:
        super().__init__(f"{field}: {message}", field=field)
        self.message = message
        self.field = field


#: The largest fixed-amount coupon a programme may give (recovery's apology, a surprise), in the order's currency.
MAX_FIXED_COUPON = Decimal("100000")


def coupon_value(value: Any, kind: str, field: str) -> Decimal:
    """A coupon's value as a programme's settings take it: a positive decimal string (or int) with at most two
    decimals, a percentage at most 100, a fixed amount at most MAX_FIXED_COUPON; refused naming `field`."""
    try:
        amount = Decimal(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise SettingsError('a positive number as a string, at most 2 decimals ("10", "5.50")', field)
    if kind == "percentage" and amount > 100:
        raise SettingsError("a percentage is at most 100", field)
    if amount > MAX_FIXED_COUPON:
        raise SettingsError(f"at most {MAX_FIXED_COUPON}", field)
    return amount


def N_(message: str) -> str:
    """Marks a label for the catalogues (scripts/i18n); the page that shows it translates it."""
    return message


@dataclass(frozen=True)
class Field:
    """One input of a section's form. `name` is its key in the section's object, dotted for a key of an object
    inside it ("quiet_hours.start"), "" for a section that is one value (locale). `kind`: text, email, url,
    color, int (a whole number), bool (a checkbox), select (`choices`: value -> label, marked with N_ or a
    language's own name; "" = none chosen) or lines (a list, one item a line)."""

    name: str
    label: str
    kind: str = "text"
    hint: str = ""
    choices: Callable[[], list[tuple[str, str]]] | None = None


@dataclass(frozen=True)
class Section:
    key: str
    #: the value to store, from the stored value with the patch merged in (never None); SettingsError otherwise
    clean: Callable[[Any], Any]
    #: the effective value of the store, what its reader uses (defaults filled in)
    show: Callable[[Store], Any]
    title: str = ""
    fields: tuple[Field, ...] = ()
    order: int = 100


SECTIONS: dict[str, Section] = {}


def register_section(section: Section) -> None:
    """A package's section (its init_app); registering the same key again replaces it (create_app runs twice)."""
    SECTIONS[section.key] = section


def show_settings(store: Store) -> dict[str, Any]:
    return {key: SECTIONS[key].show(store) for key in sorted(SECTIONS)}


def update_store_settings(session: Session, store: Store, patch: Any) -> dict[str, Any]:
    """Merge, clean and save the patch's sections (the caller commits); nothing is saved when one is refused."""
    if not isinstance(patch, dict) or not patch:
        raise SettingsError("send an object of sections", "settings")
    unknown = sorted(set(patch) - set(SECTIONS))
    if unknown:
        raise SettingsError(f"unknown setting (one of: {', '.join(sorted(SECTIONS))})", unknown[0])
    saved = dict(store.settings or {})
    for key in sorted(patch):
        value = patch[key]
        if value is None:
            saved.pop(key, None)
            continue
        current = saved.get(key)
        merged = merge(current, value) if isinstance(current, dict) and isinstance(value, dict) else value
        saved[key] = SECTIONS[key].clean(merged)
    store.settings = saved  # a new dict, so the JSON column sees the change
    session.flush()
    return show_settings(store)
