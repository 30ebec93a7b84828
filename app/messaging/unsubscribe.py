"""The unsubscribe endpoint: GET shows a one-click confirm page, POST records the suppression. The page is in
the store's frame (templates/_page.html: its name, logo and colour).

The link is signed with itsdangerous (Flask's SECRET_KEY, a salt for this purpose only) and
never expires: an unsubscribe link must keep working for as long as the mail is in an inbox.
It carries the store id, the SHA-256 of the address (never the address: URLs end up in
logs) and the message's locale for the page. Every message also carries List-Unsubscribe
and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`, so mail clients POST to the same
URL without a page (RFC 8058, https://www.rfc-editor.org/rfc/rfc8058#section-3.1); that POST
needs no CSRF token by design: the signed URL is the authorisation.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from itsdangerous import BadSignature, URLSafeSerializer

from app.extensions import db
from app.messaging.i18n import match_locale, resolve_locale
from app.messaging.render import branding, render_page
from app.security import signing_keys
from app.stores.models import Store

SALT = "email-unsubscribe"
blueprint = Blueprint("email_unsubscribe", __name__, url_prefix="/email")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(signing_keys(), salt=SALT)


def make_token(store_id: int, digest: str, locale: str | None) -> str:
    return _serializer().dumps([store_id, digest, match_locale(locale) or ""])


def read_token(token: str) -> tuple[int, str, str] | None:
    try:
        store_id, digest, locale = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(store_id, int) or not isinstance(digest, str) or len(digest) != 64:
        return None
    return store_id, digest, str(locale or "")


def _page(state: str, locale: str, store: Store | None, status: int, action: str = "") -> tuple[str, int, Any]:
    name = (store.name or store.domain) if store else ""
    brand = branding(store.settings if store else None)
    html = render_page("unsubscribe.html", locale, state=state, store_name=name, brand=brand, action=action)
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
    }
    return html, status, headers


@blueprint.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    from app.messaging import suppress

    parsed = read_token(token)
    store = db.session.get(Store, parsed[0]) if parsed else None
    header_locale = request.accept_languages.best if request.accept_languages else None
    if parsed is None or store is None:
        return _page("invalid", resolve_locale(header_locale), None, 404)
    _, digest, token_locale = parsed
    locale = resolve_locale(token_locale, header_locale, (store.settings or {}).get("locale"))
    if request.method == "GET":
        # Confirm first: link scanners and prefetchers follow GET links, and must not unsubscribe anyone.
        return _page("confirm", locale, store, 200, action=request.path)
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    suppress(db.session, store, digest, "one_click" if one_click else "unsubscribe")
    db.session.commit()
    return _page("done", locale, store, 200)
