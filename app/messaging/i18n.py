"""Locales: which catalogue a message is written in, and the gettext catalogues themselves.

Resolution (the rule features rely on): each candidate, in order, is matched to
the best catalogue we ship (app/translations/<lang>/LC_MESSAGES/messages.mo):
1. the locale the caller passes (the order's locale, else the customer's), in
   any of the forms the platforms send: "pl", "pl-PL", "pl_PL", "pt_BR";
2. the customer's stored locale (when the caller passed none);
3. the store's default language, Store.settings["locale"];
4. "en".
A candidate matches its exact language+territory catalogue if we have one,
else its language ("pl-PL" -> "pl"); an unknown one ("xx", "pt_BR") falls through
to the next candidate. Catalogues are built with Babel (scripts/i18n).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency as babel_format_currency
from babel.numbers import format_decimal as babel_format_decimal
from babel.numbers import format_percent as babel_format_percent
from babel.support import NullTranslations, Translations

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
DEFAULT_LOCALE = "en"


@cache
def available_locales() -> frozenset[str]:
    return frozenset(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.mo"))


def match_locale(value: str | None) -> str | None:
    """The shipped catalogue for one locale string, or None."""
    if not value or not isinstance(value, str) or len(value) > 35:
        return None
    try:
        parsed = Locale.parse(value.strip().replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return None
    available = available_locales()
    if parsed.territory and f"{parsed.language}_{parsed.territory}" in available:
        return f"{parsed.language}_{parsed.territory}"
    return parsed.language if parsed.language in available else None


def resolve_locale(*candidates: str | None) -> str:
    """The first candidate that matches a catalogue; "en" when none does."""
    for candidate in candidates:
        found = match_locale(candidate)
        if found:
            return found
    return DEFAULT_LOCALE


@cache
def translations(locale: str) -> NullTranslations:
    # Translations.load gives a NullTranslations (gettext returns the message as is) when no catalogue exists.
    return Translations.load(str(TRANSLATIONS), [locale], domain="messages")


def format_date(value: date | datetime | str | None, locale: str) -> str:
    """A date in the locale's long form ("12 marca 2027"); ISO strings from a JSON context accepted."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return babel_format_date(value, format="long", locale=locale)


def format_number(value: int | str | Decimal | None, locale: str) -> str:
    """Grouped per locale ("1 250" in pl, "1,250" in en); Decimal from strings so money stays exact."""
    if value is None:
        return ""
    return babel_format_decimal(Decimal(str(value)), locale=locale)


def format_money(value: str | Decimal, currency: str | None, locale: str) -> str:
    """An amount with its currency as the locale writes it ("5,00 €" in pl, "€5.00" in en); a bare number when
    the currency is unknown."""
    if not currency:
        return format_number(value, locale)
    return babel_format_currency(Decimal(str(value)), currency, locale=locale)


def format_percent(value: str | Decimal, locale: str) -> str:
    """A percentage given in percent ("10" -> "10%" in en, "10 %" where the locale spaces it)."""
    return babel_format_percent(Decimal(str(value)) / 100, format=None, locale=locale, decimal_quantization=False)
