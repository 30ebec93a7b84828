"""Admin API: the repeat-customer surprises programme's settings and the surprises decided.

GET   /admin/api/v1/surprises/settings     the effective settings
PATCH /admin/api/v1/surprises/settings     merge a patch (the thresholds list is replaced whole); 422 with the
                                           field when refused, nothing saved; audited
GET   /admin/api/v1/surprises?status=&customer_id=&limit=50&before=<id>   newest first
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.admin import audit, bp
from app.admin.auth import merchant_required
from app.admin.openapi import documented, obj
from app.errors import InvalidInput
from app.extensions import db
from app.platform.types import utcnow
from app.stores.models import Store
from app.surprises.models import KINDS, SKIP_REASONS, STATUSES, Surprise
from app.surprises.service import as_dict
from app.surprises.settings import SurpriseSettings, get_settings, show, update_settings

MAX_PAGE = 200
MAX_ID = 10**18 - 1  # _int_arg's 18 digits
THRESHOLD = obj(
    "order", "kind",
    order={"type": "integer", "minimum": 1}, kind={"enum": list(KINDS)}, value={"type": "string"},
    points={"type": "integer"}, expires_days={"type": "integer"}, segment={"type": ["string", "null"]},
)  # fmt: skip
SETTINGS = obj(
    "enabled", "thresholds",
    enabled={"type": "boolean"}, started_at={"type": ["string", "null"]},
    thresholds={"type": "array", "items": THRESHOLD},
)  # fmt: skip
SURPRISE = obj(
    "id", "threshold", "order_id", "status", "kind",
    id={"type": "integer"}, threshold={"type": "integer"}, status={"enum": list(STATUSES)},
    kind={"enum": list(KINDS)}, skip_reason={"enum": [*SKIP_REASONS, None]},
)  # fmt: skip
_Q = {"in": "query", "required": False}


def save_settings(session: Session, store: Store, patch: Any) -> SurpriseSettings:
    """The one way a merchant changes the settings (this API and the dashboard): validated, saved, audited as
    `settings.update` (the caller commits; SettingsError names the field, nothing saved)."""
    with audit.settings_change(session, store, "surprises"):
        return update_settings(session, store, patch, utcnow())


@bp.get("/surprises/settings")
@documented(summary="The repeat-customer surprises' settings", response=SETTINGS)
@merchant_required
def surprises_settings() -> Response:
    return jsonify(show(get_settings(g.store)))


@bp.patch("/surprises/settings")
@documented(
    summary="Merge a patch into the surprises' settings (validated; nothing saved on a bad value)",
    request={"type": "object"},
    response=SETTINGS,
    errors={422: "A bad value (the field is named)"},
)
@merchant_required
def patch_surprises_settings() -> Response:
    """Decimals as strings ("10"); a threshold's segment must exist in the store."""
    settings = save_settings(db.session, g.store, request.get_json(silent=True))  # SettingsError: 422
    db.session.commit()
    return jsonify(show(settings))


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise InvalidInput(f"{name} is a positive integer", field=name)
    return int(raw)


@bp.get("/surprises")
@documented(
    summary="Surprises decided (one per customer and threshold), newest first",
    query=[
        {"name": "status", **_Q, "schema": {"enum": list(STATUSES)}},
        {"name": "customer_id", **_Q, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
        {"name": "limit", **_Q, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}},
        {"name": "before", **_Q, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
    ],
    response=obj("surprises", surprises={"type": "array", "items": SURPRISE}),
    errors={400: "A bad status, customer_id, limit or before"},
)
@merchant_required
def surprises_index() -> Response:
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status is one of {', '.join(STATUSES)}", field="status")
    limit = min(max(_int_arg("limit") or 50, 1), MAX_PAGE)
    before, customer_id = _int_arg("before"), _int_arg("customer_id")
    stmt = select(Surprise).where(Surprise.store_id == g.store.id)
    if status is not None:
        stmt = stmt.where(Surprise.status == status)
    if customer_id is not None:
        stmt = stmt.where(Surprise.customer_id == customer_id)
    if before is not None:
        stmt = stmt.where(Surprise.id < before)
    rows = db.session.scalars(stmt.order_by(Surprise.id.desc()).limit(limit + 1)).all()
    page = list(rows[:limit])
    return jsonify(surprises=[as_dict(s) for s in page], next_before=page[-1].id if len(rows) > limit else None)
