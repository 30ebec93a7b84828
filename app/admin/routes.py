"""Admin API views that belong to no single feature."""

from __future__ import annotations

from flask import Response, g, jsonify

from app.admin import bp
from app.admin.auth import merchant_required
from app.admin.openapi import documented, obj

STORE = obj("id", "platform", "domain", "status", id={"type": "integer"}, platform={"enum": ["shopify", "woocommerce"]})


@bp.get("/store")
@documented(summary="The store the credentials speak for", response=STORE)
@merchant_required
def store_info() -> Response:
    """The store the credentials speak for (the dashboard's first call)."""
    return jsonify(g.store.as_dict())
