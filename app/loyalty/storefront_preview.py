"""GET /earn-preview?amount=&currency=: the points an order of that amount would earn, before there is an order.

Public (any caller the storefront admits: the store's public key, a WooCommerce customer token, the app proxy,
a Shopify UI extension's session token). The WordPress plugin shows it on product and cart pages, the Shopify
Thank-you block while our record of the order has not arrived yet. The points come from the same rule the
ledger prices an order with (loyalty/orders.amount_rule), so the preview and the order agree; a logged-in
customer's tier multiplier applies as it would to their order. `pending_days` is the return window the points
wait after delivery (docs/loyalty.md); `pending_text` the store's own words for that wait in the shopper's
language (`?locale=`, settings.pending_text), or null where the store wrote none (the caller's translation).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask import Response, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import BadRequest

from app.extensions import db
from app.loyalty.models import LoyaltyAccount
from app.loyalty.orders import preview_points
from app.loyalty.settings import LOCALE_QUERY, snapshot_settings
from app.storefront.registry import register_schema, storefront_route
from app.storefront.shopper import current_identity

_AMOUNT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,4})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
PREVIEW = register_schema(
    "EarnPreview",
    {
        "type": "object",
        "required": ["points", "currency", "pending_days", "pending_text"],
        "properties": {
            "points": {"type": "integer", "minimum": 0},
            "currency": {"type": "string"},
            "pending_days": {"type": "integer", "minimum": 0},
            "pending_text": {"type": ["string", "null"]},
        },
    },
)
_QUERY = (
    {
        "name": "amount",
        "in": "query",
        "required": True,
        "schema": {"type": "string", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,4})?$"},
    },
    {"name": "currency", "in": "query", "required": True, "schema": {"type": "string", "pattern": "^[A-Z]{3}$"}},
    LOCALE_QUERY,
)


@storefront_route(
    "/loyalty/earn-preview",
    auth="any",
    summary="The points an order of this amount would earn",
    response=PREVIEW,
    query=_QUERY,
    errors={"400": "amount or currency missing or malformed"},
)
def loyalty_earn_preview() -> Response:
    amount_text, currency = request.args.get("amount", ""), request.args.get("currency", "")
    if not _AMOUNT.fullmatch(amount_text) or not _CURRENCY.fullmatch(currency):
        raise BadRequest(description="amount and currency (ISO 4217) are required")
    try:
        amount = Decimal(amount_text)
    except InvalidOperation as exc:  # the pattern admits only plain decimals; kept for safety
        raise BadRequest(description="amount") from exc
    shopper = current_identity()
    settings = snapshot_settings(shopper.ref)
    tier = None
    customer = shopper.customer if settings.tiers else None
    if customer is not None:
        tier = db.session.scalar(
            select(LoyaltyAccount.tier).where(
                LoyaltyAccount.store_id == shopper.store_id, LoyaltyAccount.customer_id == customer.id
            )
        )
    return jsonify(
        points=preview_points(settings, amount, currency, tier),
        currency=currency,
        pending_days=settings.return_window_days,
        pending_text=settings.pending_wording(request.args.get("locale")),
    )
