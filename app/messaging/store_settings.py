"""The store's settings messaging reads, each with one rule used by its writer (app/stores/settings sections:
the admin API, `flask stores settings`) and its reader (a hand-edited stored value falls back field by field):

- Store.settings["branding"] = {"primary_color": "#RGB" | "#RRGGBB", "logo_url": "https://..."}: e-mails and
  the shopper's pages (render.branding);
- Store.settings["email"] = {"from_name", "from_address", "reply_to"}: the From and Reply-To of every e-mail
  (outbox.sender, outbox.build_email). A from_address must be on a domain that authorises our SMTP relay
  (SPF/DKIM), or receivers following DMARC reject the mail; reply_to has no such limit, so it is how a
  shopper's answer reaches the merchant;
- Store.settings["locale"]: the store's language when neither the order nor the customer has one, stored as
  the shipped catalogue it matches (i18n.match_locale).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from app.messaging.i18n import available_locales, match_locale
from app.platform.settings import clean_address
from app.stores.models import Store
from app.stores.settings import N_, Field, Section, SettingsError

DEFAULT_COLOR = "#1f2937"
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
MAX_LOGO_URL = 2000
MAX_FROM_NAME = 100


def _color(value: Any) -> str:
    if not isinstance(value, str) or not _HEX.match(value):
        raise SettingsError('a colour as "#RRGGBB" or "#RGB"', "branding.primary_color")
    return value.lower()


def _logo(value: Any) -> str:
    # https only: mail clients warn on mixed content, and no javascript:/data: can slip into src.
    ok = isinstance(value, str) and value.startswith("https://") and len(value) <= MAX_LOGO_URL
    if ok and (not value.isprintable() or any(c in value for c in " \"'<>\\")):
        ok = False
    if ok:
        try:
            ok = bool(urlsplit(value).hostname)
        except ValueError:
            ok = False
    if not ok:
        raise SettingsError(f"an https:// URL of at most {MAX_LOGO_URL} characters", "branding.logo_url")
    return str(value)


def _from_name(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value.strip()) <= MAX_FROM_NAME or not value.isprintable():
        raise SettingsError(f"1 to {MAX_FROM_NAME} printable characters", "email.from_name")
    if any(c in value for c in '<>"'):  # a display name we never have to quote
        raise SettingsError('no <, > or " in a sender name', "email.from_name")
    return value.strip()


def _address(field: str) -> Callable[[Any], str]:
    def clean(value: Any) -> str:
        address = clean_address(value)
        if address is None:
            raise SettingsError("a plain e-mail address (name@domain.tld)", field)
        return address

    return clean


_BRANDING: dict[str, Callable[[Any], str]] = {"primary_color": _color, "logo_url": _logo}
_EMAIL: dict[str, Callable[[Any], str]] = {
    "from_name": _from_name,
    "from_address": _address("email.from_address"),
    "reply_to": _address("email.reply_to"),
}


def _clean_object(value: Any, section: str, fields: dict[str, Callable[[Any], str]]) -> dict[str, str]:
    """What to store: the fields given, each cleaned (null drops one); SettingsError for anything else."""
    if not isinstance(value, dict):
        raise SettingsError("must be an object", section)
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise SettingsError("unknown setting", f"{section}.{unknown[0]}")
    return {key: fields[key](item) for key, item in value.items() if item is not None}


def _read_object(settings: dict[str, Any] | None, section: str, fields: dict[str, Callable[[Any], str]]) -> dict:
    """The stored fields that pass their rule (a bad one reads as absent); every field named, None when unset."""
    raw = (settings or {}).get(section)
    raw = raw if isinstance(raw, dict) else {}
    values: dict[str, str | None] = {}
    for key, clean in fields.items():
        try:
            values[key] = clean(raw[key]) if raw.get(key) is not None else None
        except SettingsError:
            values[key] = None
    return values


DARK_TEXT = "#18181b"


def _luminance(color: str) -> float:
    """WCAG 2.1 relative luminance of "#RGB" / "#RRGGBB" (https://www.w3.org/TR/WCAG21/#dfn-relative-luminance)."""
    digits = color[1:] if len(color) == 7 else "".join(c * 2 for c in color[1:])
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def on_color(color: str) -> str:
    """White or near-black, whichever reads better on `color`: a store's colour may be light (a yellow button
    with white text fails WCAG's contrast); the merchant chooses the colour, we choose the text on it."""
    lum = _luminance(color)
    return "#ffffff" if (1.05 / (lum + 0.05)) >= ((lum + 0.05) / (_luminance(DARK_TEXT) + 0.05)) else DARK_TEXT


def branding(settings: dict[str, Any] | None) -> dict[str, str | None]:
    """The store's look as pages and e-mails use it: the default colour when none (or a bad one) is stored, and
    `on_primary`, the text colour that reads on it."""
    values = _read_object(settings, "branding", _BRANDING)
    primary = values["primary_color"] or DEFAULT_COLOR
    return {"primary_color": primary, "on_primary": on_color(primary), "logo_url": values["logo_url"]}


def email_settings(settings: dict[str, Any] | None) -> dict[str, str | None]:
    """from_name, from_address, reply_to as stored and valid (None: the default applies)."""
    return _read_object(settings, "email", _EMAIL)


def clean_locale(value: Any) -> str:
    found = match_locale(value) if isinstance(value, str) else None
    if found is None:
        shipped = ", ".join(sorted(available_locales()))
        raise SettingsError(f"a language we ship e-mails in ({shipped})", "locale")
    return found


def store_locale(store: Store) -> str | None:
    return match_locale((store.settings or {}).get("locale"))


def locale_choices() -> list[tuple[str, str]]:
    """The shipped catalogues, each named in its own language (Babel's CLDR names), "" for none chosen."""
    from babel import Locale

    named = [(code, Locale.parse(code).get_display_name(code) or code) for code in sorted(available_locales())]
    return [("", N_("The customer's or order's language, else English")), *named]


SECTIONS = (
    Section(
        "branding",
        lambda value: _clean_object(value, "branding", _BRANDING),
        lambda store: {k: v for k, v in branding(store.settings).items() if k != "on_primary"},  # as stored
        title=N_("Branding"),
        fields=(
            Field("primary_color", N_("Primary colour"), "color", N_("Buttons and headings in e-mails and pages.")),
            Field("logo_url", N_("Logo URL"), "url", N_("An https:// address of the logo image.")),
        ),
        order=10,
    ),
    Section(
        "email",
        lambda value: _clean_object(value, "email", _EMAIL),
        lambda store: email_settings(store.settings),
        title=N_("E-mail sender"),
        fields=(
            Field("from_name", N_("Sender name"), "text"),
            Field(
                "from_address",
                N_("Sender address"),
                "email",
                N_("On a domain that lets our mail server send for it (SPF, DKIM); empty: ours."),
            ),
            Field("reply_to", N_("Reply-to address"), "email", N_("Where shoppers' answers go.")),
        ),
        order=20,
    ),
    Section(
        "locale",
        clean_locale,
        store_locale,
        title=N_("Store language"),
        fields=(Field("", N_("Language of e-mails and pages"), "select", choices=locale_choices),),
        order=30,
    ),
)
