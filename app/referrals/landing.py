"""Blueprint: the share link's landing page, `APP_URL/ref/<code>`.

A GET shows the offer and changes nothing (link previewers, mail scanners and bots open share links: see
app/referrals/invites.py); the friend presses "Get my code" (a POST) and gets a landing token (signed with
SECRET_KEY; its row keeps keyed hashes of the IP and user agent for the fraud check, never the values) and
their own single-use discount code, which a job creates at the store (app/referrals/tasks.create_friend_discount).
One friend, one code: a return visit is recognised by the `ppe_ref` cookie (the token; a GET then shows their
code), and a friend who gives their e-mail by its hash. Presses are capped per visitor and per link.
The page is templates/referral_landing.html in the store's frame (name, logo, colours) and the friend's language.

What the storefront passes at checkout: the "Shop now" link carries the token as `?ppe_ref=<token>` (on Shopify
through `/discount/<code>?redirect=...`, which also applies the code to the cart:
https://help.shopify.com/en/manual/discounts/discount-methods/discount-links). Our storefront script copies it
into the cart attribute `_ppe_ref` (Shopify: it arrives as the order's note attribute) or the order meta
`_ppe_ref` (WooCommerce). The discount code alone is enough for attribution; the token attributes orders that
did not use the code.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import Blueprint, Flask, Response, abort, current_app, request

from app.compliance.api import PERSONAL_DATA, register_personal_data
from app.extensions import db
from app.messaging.api import branding, render_page, resolve_locale
from app.records.models import Order
from app.referrals.invites import LinkBusy, find_invite, record_landing
from app.referrals.models import ReferralCode, ReferralInvite
from app.referrals.service import client_hash, find_code, landing_token
from app.referrals.settings import get_settings
from app.stores.models import Store
from app.stores.origins import storefront_url

# template_folder: the dashboard page's templates (templates/referrals/), found by Flask's loader.
bp = Blueprint("referrals", __name__, template_folder="templates")
COOKIE = "ppe_ref"
#: What could be a code (service.ALPHABET, any case; find_code upper-cases it). Anything else, a NUL byte
#: included (PostgreSQL refuses it in a text parameter), names no code: 404 without a query.
_CODE = re.compile(r"[0-9A-Za-z]{1,16}")


def share_url(code: ReferralCode) -> str:
    return f"{str(current_app.config.get('APP_URL', '')).rstrip('/')}/ref/{code.code}"


def shop_link(store: Store, invite: ReferralInvite, token: str) -> str:
    site = storefront_url(store)
    if store.platform == "shopify":
        return f"{site}/discount/{quote(invite.discount_code)}?redirect={quote('/?ppe_ref=' + token)}"
    return f"{site}/?ppe_ref={quote(token)}"


def _locale(store: Store) -> str:
    """The friend's language (their browser's, in its order of preference), else the store's, else English."""
    wanted = [value for value, _ in request.accept_languages][:8]
    return resolve_locale(*wanted, (store.settings or {}).get("locale"))


def _render(store: Store, state: str, invite: ReferralInvite | None = None, token: str = "") -> str:
    """The page in the store's frame (messaging's templates/_page.html) and the friend's language."""
    return render_page(
        "referral_landing.html",
        _locale(store),
        state=state,
        store_name=store.name or store.domain,
        brand=branding(store.settings),
        discount=get_settings(store).friend_discount,
        code=invite.discount_code if invite else "",
        shop_url=shop_link(store, invite, token) if invite else "",
    )


def _answer(html: str, status: int = 200) -> Response:
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/ref/<code>", methods=["GET", "POST"])
def landing(code: str) -> Response:
    found = find_code(db.session, code) if _CODE.fullmatch(code.strip()) else None
    store = db.session.get(Store, found.store_id) if found else None
    if found is None or store is None or store.status != "active" or not get_settings(store).enabled:
        abort(404)
    if request.method != "POST":  # GET and HEAD read only (invites.py): the code the friend's cookie names
        known = find_invite(db.session, store, found, request.cookies.get(COOKIE))
        if known is None:
            return _answer(_render(store, "offer"))
        return _answer(_render(store, "code", known, landing_token(store, known)))
    try:
        invite, new = record_landing(
            db.session,
            store,
            found,
            landing_token=request.cookies.get(COOKIE),
            email=request.form.get("email") or None,
            ip_hash=client_hash(request.remote_addr),
            ua_hash=client_hash(request.user_agent.string),
        )
    except LinkBusy as exc:
        db.session.rollback()
        return _answer(_render(store, "busy"), exc.status)
    db.session.commit()
    if new:
        from app.referrals.tasks import enqueue

        enqueue("create_friend_discount", invite.id, invite.store_id)
    token = landing_token(store, invite)
    response = _answer(_render(store, "code", invite, token))
    response.set_cookie(COOKIE, token, max_age=60 * 86400, httponly=True, samesite="Lax", path="/ref")
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # customers/redact: the order's contact details kept for fraud checks, the owner's device hashes.
    registered = {(p.model, p.columns) for p in PERSONAL_DATA}  # create_app runs more than once in tests
    for model, columns in (
        (Order, ("shipping_address", "phone", "payment_fingerprint", "referral_token")),
        (ReferralCode, ("owner_ip_hash", "owner_ua_hash")),
    ):
        if (model, columns) not in registered:
            register_personal_data(model, columns)
