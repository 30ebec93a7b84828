"""Admin API views of the store itself: its store-wide settings and its audit log.

GET   /admin/api/v1/store/settings   {"branding": {...}, "email": {...}, "locale": "pl" | null, "storefront": {...}}
PATCH /admin/api/v1/store/settings   {"branding": {"logo_url": "https://..."}, "locale": "hu", ...}
GET   /admin/api/v1/audit?limit=50&before=<id>&action=<name>   {"entries": [...], "next_before": id | null}

The settings are those no programme owns (app/stores/settings.py: branding, sender and reply-to, the store's
language, the storefront's extra CORS origins). A refused value is 422 {"error": "invalid", "field":
"branding.logo_url", "message": ...}, nothing saved. A change is audited (one `settings.update` row) and the
storefront sees it at once in this process (the store's snapshots are dropped when it commits,
stores/cache.install), within STORE_CACHE_SECONDS in the others.
"""

from __future__ import annotations

from flask import Response, g, jsonify, request

from app.admin import audit, bp
from app.admin.auth import merchant_required
from app.admin.openapi import documented, obj
from app.errors import InvalidInput
from app.extensions import db
from app.stores.settings import SECTIONS, show_settings, update_store_settings


@bp.get("/store/settings")
@documented(
    summary="The store-wide settings: branding, sender and reply-to, locale, storefront origins",
    response={"type": "object"},
)
@merchant_required
def store_settings() -> Response:
    return jsonify(show_settings(g.store))


@bp.patch("/store/settings")
@documented(
    summary="Merge a patch into the store-wide settings (validated by their readers' rules)",
    request={"type": "object"},
    response={"type": "object"},
    errors={422: "A bad value (the field is named)"},
)
@merchant_required
def patch_store_settings() -> Response:
    patch = request.get_json(silent=True)
    with audit.settings_change(db.session, g.store, "store", *sorted(SECTIONS)):
        settings = update_store_settings(db.session, g.store, patch)  # SettingsError: 422 (the blueprint's handler)
    db.session.commit()
    return jsonify(settings)


def _int_arg(name: str, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not low <= int(raw) <= high:
        raise InvalidInput(f"{name} is an integer from {low} to {high}", field=name)
    return int(raw)


@bp.get("/audit")
@documented(
    summary="The audit log of merchant actions, newest first",
    query=[
        {"name": "action", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 64}},
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 200},
        },
        {
            "name": "before",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
        },
    ],
    response=obj("entries", entries={"type": "array", "items": {"type": "object"}}),
    errors={400: "A bad limit or before", 422: "action over 64 characters"},
)
@merchant_required
def audit_log() -> Response:
    action = request.args.get("action") or None
    if action is not None and len(action) > 64:
        raise InvalidInput("action is at most 64 characters", field="action")
    limit = _int_arg("limit", 1, audit.MAX_PAGE) or 50
    before = _int_arg("before", 1, 2**63 - 1)
    return jsonify(audit.page(db.session, g.store, limit=limit, before=before, action=action))
