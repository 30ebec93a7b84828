"""Admin API: the store's recovery cases (what opened them, the coupon and where it stands).

GET /admin/api/v1/recovery/cases?status=<status>&limit=50&before=<id>   newest first
GET /admin/api/v1/recovery/cases/<id>
The settings are the store-wide section "recovery" (GET|PATCH /admin/api/v1/store/settings).
"""

from __future__ import annotations

from flask import Response, g, jsonify, request
from sqlalchemy import select

from app.admin import bp
from app.admin.auth import merchant_required
from app.admin.openapi import documented, obj
from app.errors import InvalidInput
from app.extensions import db
from app.platform.sql import get_in_store
from app.recovery.models import REASONS, STATUSES, RecoveryCase
from app.recovery.service import as_dict

MAX_PAGE = 200
CASE = obj(
    "id", "order_id", "reason", "status", "code", "coupon",
    id={"type": "integer"}, reason={"enum": list(REASONS)}, status={"enum": list(STATUSES)},
)  # fmt: skip
_Q = {"in": "query", "required": False}


def _int_arg(name: str, default: int | None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise InvalidInput(f"{name} is a positive integer", field=name)
    return int(raw)


@bp.get("/recovery/cases")
@documented(
    summary="Recovery cases (an apology with a single-use coupon, once per order), newest first",
    query=[
        {"name": "status", **_Q, "schema": {"enum": list(STATUSES)}},
        {"name": "limit", **_Q, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}},
        {"name": "before", **_Q, "schema": {"type": "integer", "minimum": 1}},
    ],
    response=obj("cases", cases={"type": "array", "items": CASE}),
    errors={400: "A bad status, limit or before"},
)
@merchant_required
def recovery_cases() -> Response:
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status is one of {', '.join(STATUSES)}", field="status")
    limit = min(max(_int_arg("limit", 50) or 50, 1), MAX_PAGE)
    before = _int_arg("before", None)
    stmt = select(RecoveryCase).where(RecoveryCase.store_id == g.store.id)
    if status is not None:
        stmt = stmt.where(RecoveryCase.status == status)
    if before is not None:
        stmt = stmt.where(RecoveryCase.id < before)
    rows = db.session.scalars(stmt.order_by(RecoveryCase.id.desc()).limit(limit + 1)).all()
    page = list(rows[:limit])
    return jsonify(cases=[as_dict(c) for c in page], next_before=page[-1].id if len(rows) > limit else None)


@bp.get("/recovery/cases/<int:case_id>")
@documented(summary="One recovery case", response=CASE, errors={404: "No such case in this store"})
@merchant_required
def recovery_case(case_id: int) -> Response | tuple[Response, int]:
    case = get_in_store(db.session, RecoveryCase, case_id, g.store.id)
    if case is None:
        return jsonify(error="not_found", message="no such case in this store"), 404
    return jsonify(as_dict(case))
