"""The merchant's language for dashboard pages: `_()` / `ngettext()` in their templates.

The catalogues are the project's own (app/translations, built by scripts/i18n with Babel), so a dashboard string
is extracted and translated like every other. The merchant UI ships in English and Polish; the other catalogues
answer a string they lack in English (gettext's fallback), so a page is never half empty.
The language, in order: Shopify's `locale` query parameter on the admin's first load (kept on our links,
https://shopify.dev/docs/apps/build/admin/embedded/app-home), the browser's Accept-Language, English.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from flask import Flask, g, has_request_context, request

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
MERCHANT_LOCALES = ("en", "pl")  # the merchant UI's complete catalogues; the first is the fallback


@cache
def _catalogue(locale: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS), [locale], domain="messages")


def _language(value: str | None) -> str | None:
    if not value or len(value) > 35:
        return None
    code = value.replace("_", "-").split("-", 1)[0].strip().lower()
    return code if code in MERCHANT_LOCALES else None


def merchant_locale() -> str:
    """The merchant's language for this request (memoised on g)."""
    if not has_request_context():
        return MERCHANT_LOCALES[0]
    chosen: str | None = g.get("dashboard_locale")
    if chosen is None:
        chosen = _language(request.args.get("locale")) or request.accept_languages.best_match(MERCHANT_LOCALES)
        chosen = chosen or MERCHANT_LOCALES[0]
        g.dashboard_locale = chosen
    return chosen


def N_(message: str) -> str:
    """Marks a string for extraction where it is defined (a page's title and navigation label) and translated
    where it is shown (the layout calls `_()` on it)."""
    return message


def gettext(message: str, **values: object) -> str:
    text = _catalogue(merchant_locale()).ugettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    """Formatted only when given values, like gettext: Jinja's newstyle call passes none and formats the text
    itself with `num` and the template's own names (formatting here too raised KeyError on any other name)."""
    text = _catalogue(merchant_locale()).ungettext(singular, plural, n)
    return text % {"num": n, **values} if values else text


def init_app(app: Flask) -> None:
    """Flask's Jinja environment gets the i18n extension with callables that read the request's language.
    Autoescaping still applies to what a template interpolates (newstyle gettext marks nothing safe)."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts them
    app.jinja_env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
