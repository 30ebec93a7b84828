"""Admin API views that belong to no single feature."""

from __future__ import annotations

from flask import Response, g, jsonify

from app.admin import bp
from app.admin.auth import merchant_required
from app.admin.openapi import documented, obj
from app.extensions import db
from app.inbox.lag import store_lag

STORE = obj("id", "platform", "domain", "status", id={"type": "integer"}, platform={"enum": ["shopify", "woocommerce"]})


@bp.get("/store")
@documented(summary="The store the credentials speak for", response=STORE)
@merchant_required
def store_info() -> Response:
    """The store the credentials speak for (the dashboard's first call)."""
    return jsonify(g.store.as_dict())


@bp.get("/inbox")
@documented(
    summary="How far behind the store's webhooks are",
    response=obj("store_id", "depth", "oldest_unprocessed_age_seconds", "last_processed_at", depth={"type": "integer"}),
)
@merchant_required
def inbox_lag() -> Response:
    """How far behind the store's webhooks are: deliveries not processed yet, the oldest one's age in seconds,
    when the last one was processed (app/inbox/lag.py)."""
    (lag,) = store_lag(db.session, [g.store.id])
    return jsonify(lag)
