"""Admin API views that belong to no single feature."""

from __future__ import annotations

from flask import Response, g, jsonify

from app.admin import bp
from app.admin.auth import merchant_required
from app.extensions import db
from app.inbox.lag import store_lag


@bp.get("/store")
@merchant_required
def store_info() -> Response:
    """The store the credentials speak for (the dashboard's first call)."""
    return jsonify(g.store.as_dict())


@bp.get("/inbox")
@merchant_required
def inbox_lag() -> Response:
    """How far behind the store's webhooks are: deliveries not processed yet, the oldest one's age in seconds,
    when the last one was processed (app/inbox/lag.py)."""
    (lag,) = store_lag(db.session, [g.store.id])
    return jsonify(lag)
