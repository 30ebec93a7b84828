"""The dashboard's E-mails page (/app/emails): every registered message template, previewed in each shipped
language with the store's branding and the template's sample context (samples.py), and a test send.

The preview is the rendered HTML in an iframe's srcdoc with an empty `sandbox`: no script runs in it, it has an
opaque origin (no reach into the dashboard or its cookies), forms and pop-ups are off. A test send is queued
through the outbox (samples.send_test: marked as a test, rate-limited per store) and audited as `email.test`
(the template and language; never the address, which may be a person's).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import redirect, request

from app.admin import audit
from app.dashboard.i18n import N_, gettext
from app.dashboard.registry import add_template_folder, current_merchant, dashboard_page, page_url, render_page
from app.extensions import db
from app.messaging.i18n import available_locales
from app.messaging.render import TEMPLATE_NAMES
from app.messaging.samples import TestLimitReached, preview, send_test, template_names
from app.messaging.store_settings import branding
from app.platform.settings import clean_address

LANGUAGES = ("en", "pl", "hu", "kk", "lv", "th")  # the order the page lists them (their own names)
NATIVE = {"en": "English", "pl": "Polski", "hu": "Magyar", "kk": "Қазақша", "lv": "Latviešu", "th": "ไทย"}


def languages() -> list[str]:
    shipped = available_locales()
    return [code for code in LANGUAGES if code in shipped]


def _chosen() -> tuple[str, str]:
    names = template_names()
    name = request.values.get("template", "")
    lang = request.values.get("lang", "")
    return (name if name in TEMPLATE_NAMES else names[0]), (lang if lang in languages() else "en")


def _page(status: int = 200, error: str | None = None, typed: str = "") -> Any:
    store = current_merchant().store
    name, lang = _chosen()
    body = render_page(
        "messaging_dashboard/emails.html",
        names=template_names(),
        chosen=name,
        chosen_lang=lang,
        languages=[(code, NATIVE.get(code, code)) for code in languages()],
        rendered=preview(name, lang, store),
        brand=branding(store.settings),
        nonce=secrets.token_urlsafe(16),
        sent=request.args.get("sent") == "1",
        error=error,
        typed=typed,
    )
    return body, status


@dashboard_page("/emails", title=N_("E-mails"), nav=N_("E-mails"), order=60)
def emails_page() -> Any:
    return _page()


@dashboard_page("/emails/test", title=N_("E-mails"), methods=("POST",), endpoint="emails_test")
def emails_test() -> Any:
    """POST-redirect-GET: queued (once per form), or the page again with the address field marked."""
    store = current_merchant().store
    name, lang = _chosen()
    typed = request.form.get("to", "")
    address = clean_address(typed)
    nonce = request.form.get("nonce", "")
    if address is None:
        return _page(422, gettext("Enter an e-mail address like name@example.com."), typed)
    if not 8 <= len(nonce) <= 64:
        return _page(422, gettext("This form expired. Send it again."), typed)
    try:
        message, created = send_test(db.session, store, name, lang, address, nonce)
    except TestLimitReached:
        db.session.rollback()
        return _page(429, gettext("You have sent as many test e-mails as allowed for now. Try again later."), typed)
    if created:
        audit.record(db.session, store, "email.test", f"template:{name}", {"locale": lang, "message": message.id})
    db.session.commit()
    return redirect(page_url("emails_page", template=name, lang=lang, sent="1"), 303)


def register() -> None:
    add_template_folder("messaging", Path(__file__).resolve().parent / "templates")
