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
