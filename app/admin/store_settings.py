"""Admin API: the store-wide settings no programme owns (app/stores/settings.py: branding, sender and reply-to,
the store's language, the storefront's extra CORS origins).

GET   /admin/api/v1/store/settings   {"branding": {...}, "email": {...}, "locale": "pl" | null, "storefront": {...}}
PATCH /admin/api/v1/store/settings   {"branding": {"logo_url": "https://..."}, "locale": "de", ...}
A refused value is 422 {"error": "invalid", "field": "branding.logo_url", "message": ...}, nothing saved. The
change is audited (one `settings.update` row) and the storefront sees it at once in this process (the store's
snapshots are dropped when it commits, stores/cache.install), within STORE_CACHE_SECONDS in the others.
"""

from __future__ import annotations

from flask import Response, g, jsonify, request

from app.admin import audit, bp
from app.admin.auth import merchant_required
from app.extensions import db
from app.stores.settings import SECTIONS, show_settings, update_store_settings


@bp.get("/store/settings")
@merchant_required
def store_settings() -> Response:
    return jsonify(show_settings(g.store))


@bp.patch("/store/settings")
@merchant_required
def patch_store_settings() -> Response:
    patch = request.get_json(silent=True)
    keys = sorted(SECTIONS)
    with audit.settings_change(db.session, g.store, "store", *keys):
        settings = update_store_settings(db.session, g.store, patch)  # SettingsError: 422 (the blueprint's handler)
    db.session.commit()
    return jsonify(settings)
