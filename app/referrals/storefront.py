"""GET /me/referral: the logged-in customer's referral code and share link, created on demand."""

from __future__ import annotations

from flask import Response, jsonify, request
from werkzeug.exceptions import NotFound

from app.extensions import db
from app.records.customers import resolve_customer
from app.referrals.service import client_hash, get_or_create_code
from app.referrals.settings import get_settings
from app.storefront.registry import register_schema, storefront_route
from app.storefront.shopper import current_identity
from connectors.events import CustomerSnapshot

REFERRAL = register_schema(
    "Referral",
    {
        "type": "object",
        "required": ["code", "share_url"],
        "properties": {"code": {"type": "string", "minLength": 8, "maxLength": 16}, "share_url": {"type": "string"}},
    },
)


@storefront_route(
    "/me/referral", auth="customer", summary="The customer's referral code and share link", response=REFERRAL
)
def my_referral() -> Response:
    from app.referrals.landing import share_url

    shopper = current_identity()
    store, customer = shopper.store, shopper.customer
    if not get_settings(store).enabled:
        raise NotFound("referrals are off for this store")
    if customer is None:  # verified by the platform, but no webhook has told us about them yet
        customer = resolve_customer(db.session, store, CustomerSnapshot(shopper.customer_platform_id, None))
        assert customer is not None  # auth="customer": a platform id, which always resolves to a record
    # The owner's device, so a landing from it (the referrer clicking their own link) is flagged.
    code = get_or_create_code(
        db.session,
        store,
        customer,
        ip_hash=client_hash(request.remote_addr),
        ua_hash=client_hash(request.user_agent.string),
    )
    db.session.commit()
    return jsonify(code=code.code, share_url=share_url(code))


FRIEND_CODE = register_schema(
    "FriendCode",
    {"type": "object", "required": ["code"], "properties": {"code": {"type": "string", "maxLength": 32}}},
)


@storefront_route(
    "/referrals/friend-code",
    summary="The friend's discount code for a landing token (read only)",
    response=FRIEND_CODE,
    query=[{"name": "token", "in": "query", "required": True, "schema": {"type": "string", "maxLength": 200}}],
    errors={"404": "No code for this token: unknown, another store's, or not created at the store yet"},
)
def friend_code() -> Response:
    """The WordPress plugin's lookup when a friend arrives with ?ppe_ref=<landing token> (docs/wordpress-plugin.md):
    the code our landing page made when they pressed "Get my code", once the store holds it, so the cart applies
    it. A lookup only: the token is the signed, per-friend secret the landing page gave them; nothing is created
    here (a GET has no side effects: link previewers and bots fetch URLs too)."""
    from app.referrals.service import invite_by_token, read_landing_token

    store = current_identity().store
    token = request.args.get("token", "")
    nonce = read_landing_token(store, token) if len(token) <= 200 else None
    invite = invite_by_token(db.session, store, nonce) if nonce else None
    if invite is None or invite.discount_status != "created":
        raise NotFound("no code for this token")
    return jsonify(code=invite.discount_code)


REFERRAL_RESULTS = register_schema(
    "ReferralResults",
    {
        "type": "object",
        "required": ["invited", "joined", "ordered", "rewarded", "rewards"],
        "properties": {
            "invited": {"type": "integer", "minimum": 0},
            "joined": {"type": "integer", "minimum": 0},
            "ordered": {"type": "integer", "minimum": 0},
            "rewarded": {"type": "integer", "minimum": 0},
            "rewards": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["kind", "points", "code", "at"],
                    "properties": {
                        "kind": {"enum": ["points", "discount_code"]},
                        "points": {"type": ["integer", "null"]},
                        "code": {"type": ["string", "null"]},
                        "at": {"type": "string", "format": "date-time"},
                    },
                },
            },
        },
    },
)


@storefront_route(
    "/me/referral/results",
    auth="customer",
    summary="What the customer's referral link brought: friends invited, joined, ordered, and rewards earned",
    response=REFERRAL_RESULTS,
)
def my_referral_results() -> Response:
    """Only the caller's own link (results.py reads by the customer's record); nothing is created here."""
    from app.referrals.results import results_of

    shopper = current_identity()
    if not get_settings(shopper.store).enabled:
        raise NotFound("referrals are off for this store")
    return jsonify(results_of(db.session, shopper.store, shopper.customer))
