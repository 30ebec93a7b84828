"""Blueprint: the share link's landing page, `APP_URL/ref/<code>`.

A GET shows the offer and changes nothing (link previewers, mail scanners and bots open share links: see
app/referrals/invites.py); the friend presses "Get my code" (a POST) and gets a landing token (signed with
SECRET_KEY; its row keeps keyed hashes of the IP and user agent for the fraud check, never the values) and
their own single-use discount code, which a job creates at the store (app/referrals/tasks.create_friend_discount).
One friend, one code: a return visit is recognised by the `ppe_ref` cookie (the token; a GET then shows their
code), and a friend who gives their e-mail by its hash. Presses are capped per visitor and per link.

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
from markupsafe import escape

from app.compliance.api import PERSONAL_DATA, register_personal_data
from app.extensions import db
from app.records.models import Order
from app.referrals.invites import LinkBusy, find_invite, record_landing
from app.referrals.models import ReferralCode, ReferralInvite
from app.referrals.service import client_hash, find_code, landing_token
from app.referrals.settings import get_settings
from app.stores.models import Store
from app.stores.origins import storefront_url

bp = Blueprint("referrals", __name__)
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


def _offer(store: Store) -> str:
    d = get_settings(store).friend_discount
    if d.kind == "percentage":
        return f"{d.value.normalize():f}% off your first order"
    if d.kind == "free_shipping":
        return "free shipping on your first order"
    return f"{d.value:f} {d.currency or store.currency or ''} off your first order"


def _page(store: Store, body: str) -> str:
    name = escape(store.name or store.domain)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{name}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">
<h1>A friend sent you {escape(_offer(store))}</h1>
{body}</body></html>"""


def _offer_page(store: Store) -> str:
    """No invite yet: the button that asks for one (a POST; link previewers and scanners only GET)."""
    return _page(
        store,
        """<form method="post"><p><label>Your e-mail, to keep the code for later (optional):
<input type="email" name="email"></label></p><button>Get my code</button></form>""",
    )


def _code_page(store: Store, invite: ReferralInvite, token: str) -> str:
    name = escape(store.name or store.domain)
    return _page(
        store,
        f"""<p>Your code: <strong id="code">{escape(invite.discount_code)}</strong></p>
<p><a href="{escape(shop_link(store, invite, token))}">Shop {name} now</a></p>
<form method="post"><label>Keep the code for later: <input type="email" name="email" required></label>
<button>Save</button></form>""",
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
        return _answer(_code_page(store, known, landing_token(store, known)) if known else _offer_page(store))
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
        return _answer(_page(store, f"<p>{escape(exc.message)}</p>"), exc.status)
    db.session.commit()
    if new:
        from app.referrals.tasks import enqueue

        enqueue("create_friend_discount", invite.id)
    token = landing_token(store, invite)
    response = _answer(_code_page(store, invite, token))
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
