"""Admin API: the store's audit log, newest first.

GET /admin/api/v1/audit?limit=50&before=<id>&action=<name>   {"entries": [...], "next_before": id | null}
"""

from __future__ import annotations

from flask import Response, g, jsonify, request

from app.admin import audit, bp
from app.admin.auth import merchant_required
from app.errors import InvalidInput
from app.extensions import db


def _int_arg(name: str, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not low <= int(raw) <= high:
        raise InvalidInput(f"{name} is an integer from {low} to {high}", field=name)
    return int(raw)


@bp.get("/audit")
@merchant_required
def audit_log() -> Response:
    action = request.args.get("action") or None
    if action is not None and len(action) > 64:
        raise InvalidInput("action is at most 64 characters", field="action")
    limit = _int_arg("limit", 1, audit.MAX_PAGE) or 50
    before = _int_arg("before", 1, 2**63 - 1)
    return jsonify(audit.page(db.session, g.store, limit=limit, before=before, action=action))
