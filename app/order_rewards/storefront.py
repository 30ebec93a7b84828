"""GET /orders/<order_id>/rewards: one order's points, their state and the reviews it may still get.

auth="customer": the widget's customer token, the app proxy's logged-in customer or a Shopify UI extension's
session token naming a customer (`sub`). The order must be that customer's in that store; any other order,
another customer's or one we never saw, is the same 404, so the answer never tells whether it exists.
"""

from __future__ import annotations

import re

from flask import Response, jsonify, request
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

from app.extensions import db
from app.loyalty.api import LOCALE_QUERY, get_settings, order_points
from app.platform.types import utcnow
from app.records.models import Order
from app.records.orders import find_order
from app.reviews.api import reviewable_items
from app.storefront.registry import register_schema, storefront_route
from app.storefront.shopper import current_shopper

ORDER_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
ORDER_REWARDS = register_schema(
    "OrderRewards",
    {
        "type": "object",
        "required": ["order_id", "points", "state", "spendable_at", "pending_text", "first_order", "reviews"],
        "properties": {
            "order_id": {"type": "string"},
            "points": {"type": "integer"},
            "state": {"enum": ["pending", "spendable", "reversed", "none"]},
            "spendable_at": {"type": ["string", "null"], "format": "date-time"},
            "pending_text": {"type": ["string", "null"]},
            "first_order": {"type": "boolean"},
            "reviews": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["product_id", "title", "review_url"],
                    "properties": {
                        "product_id": {"type": "string"},
                        "title": {"type": "string"},
                        "review_url": {"type": "string"},
                    },
                },
            },
        },
    },
)


def _first_order(order: Order) -> bool:
    """No earlier standing order of the same customer in the store."""
    earlier = db.session.scalar(
        select(func.count(Order.id)).where(
            Order.store_id == order.store_id,
            Order.customer_id == order.customer_id,
            Order.deleted_at.is_(None),
            Order.cancelled_at.is_(None),
            Order.id != order.id,
            Order.placed_at < order.placed_at,
        )
    )
    return not earlier


@storefront_route(
    "/orders/<order_id>/rewards",
    auth="customer",
    summary="One order's points, their state and the reviews it may get",
    response=ORDER_REWARDS,
    path_params={"order_id": {"type": "string", "pattern": "^[0-9A-Za-z_-]{1,64}$"}},
    query=[LOCALE_QUERY],
    errors={"404": "no such order of this customer"},
)
def order_rewards(order_id: str) -> Response:
    store, customer = current_shopper()
    order = find_order(db.session, store, order_id) if ORDER_ID.fullmatch(order_id) else None
    if customer is None or order is None or order.customer_id != customer.id or order.deleted_at is not None:
        raise NotFound(description="order_not_found")
    points = order_points(db.session, store, order, utcnow())
    return jsonify(
        order_id=order.platform_id,
        points=points.points,
        state=points.state,
        spendable_at=points.spendable_at.isoformat() if points.spendable_at else None,
        # The store's words for the wait (loyalty settings), in the shopper's language; null: the block's own.
        pending_text=get_settings(store).pending_wording(request.args.get("locale"))
        if points.state == "pending"
        else None,
        first_order=_first_order(order),
        reviews=reviewable_items(db.session, store, order, order.locale or "en"),
    )
