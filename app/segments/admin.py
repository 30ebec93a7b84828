"""Admin API for segments (on the admin blueprint, /admin/api/v1, merchant_required)."""

from __future__ import annotations

from flask import Response, current_app, g, jsonify, request

from app.admin import bp
from app.admin.auth import merchant_required
from app.admin.openapi import documented, obj
from app.extensions import db
from app.messaging.api import mail_now
from app.segments import editing, service
from app.segments.conditions import OPS, ConditionError
from app.segments.models import Segment
from app.segments.rhythm import current

SEGMENT = obj(
    "key", "name", "built_in", "customers",
    key={"type": "string"}, name={"type": "string"}, built_in={"type": "boolean"},
    customers={"type": "integer"}, conditions={"type": "array"},
)  # fmt: skip
KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
CONDITION = obj("field", "op", "value", field={"enum": list(OPS)}, op={"enum": ["gte", "lte", "eq", "in", "has"]},
                currency={"type": "string", "pattern": "^[A-Z]{3}$"})  # fmt: skip
CONDITIONS = {"type": "array", "minItems": 1, "maxItems": 10, "items": CONDITION}
CREATE = obj("key", "name", "conditions", key={"type": "string", "pattern": KEY_PATTERN},
             name={"type": "string", "minLength": 1, "maxLength": 120}, conditions=CONDITIONS)  # fmt: skip
CHANGE = obj(name={"type": "string", "minLength": 1, "maxLength": 120}, conditions=CONDITIONS)


def _refused(exc: ConditionError) -> tuple[Response, int]:
    db.session.rollback()
    return jsonify(error="invalid", field=exc.field, message=str(exc)), 422


def _json(definition: service.Definition, size: int | None = None) -> dict:
    from app.segments.conditions import as_json

    answer = {"key": definition.key, "name": definition.name, "built_in": definition.built_in}
    answer["conditions"] = as_json(definition.rule)
    return answer | ({"customers": size} if size is not None else {})


@bp.get("/segments")
@documented(
    summary="Every segment (the built-in lifecycle and the store's own) with its size now, and the store's rhythm",
    response=obj("segments", "interval_days", segments={"type": "array", "items": SEGMENT}),
)
@merchant_required
def admin_segments() -> tuple[Response, int]:
    now = mail_now(current_app)
    sizes = service.counts(db.session, g.store, now)
    rhythm = current(db.session, g.store, now)
    db.session.commit()  # a rhythm computed on first use is kept
    vip = {"currency": rhythm.vip_currency, "spend": str(rhythm.vip_spend) if rhythm.vip_spend is not None else None}
    return jsonify(segments=[_json(d, n) for d, n in sizes], interval_days=rhythm.interval_days, vip=vip), 200


@bp.get("/segments/<key>/customers")
@documented(
    summary="A segment's members, by our customer id (after= the last id of the previous page)",
    query=[
        {"name": "after", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}},
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 500},
        },
    ],  # fmt: skip
    response=obj("customers", customers={"type": "array"}),
    errors={400: "after, limit: whole numbers (limit 1-500)"},
)
@merchant_required
def admin_segment_members(key: str) -> tuple[Response, int]:
    definition = service.find(db.session, g.store, key)
    if definition is None:
        return jsonify(error="not_found"), 404
    try:
        after, limit = int(request.args.get("after", 0)), int(request.args.get("limit", 100))
    except ValueError:
        return jsonify(error="bad_request", message="after, limit: whole numbers (limit 1-500)"), 400
    if after < 0 or not 1 <= limit <= 500:
        return jsonify(error="bad_request", message="after, limit: whole numbers (limit 1-500)"), 400
    rows = service.members(db.session, g.store, definition, mail_now(current_app), after_id=after, limit=limit)
    db.session.commit()
    people = [{"id": c.id, "platform_id": c.platform_id, "orders_count": c.orders_count,
               "last_order_at": c.last_order_at.isoformat() if c.last_order_at else None} for c in rows]  # fmt: skip
    return jsonify(customers=people), 200


@bp.post("/segments")
@documented(summary="Create a segment of the store's own", request=CREATE, response=SEGMENT, status=201,
            errors={422: "A field refused: {error, field, message}"})  # fmt: skip
@merchant_required
def admin_segment_create() -> tuple[Response, int]:
    try:
        row = editing.create(db.session, g.store, request.get_json(silent=True))
    except ConditionError as exc:
        return _refused(exc)
    db.session.commit()
    return jsonify(_answer(row)), 201


def _answer(row: Segment) -> dict:
    definition = service.find(db.session, g.store, row.key)
    assert definition is not None
    sizes = dict((d.key, n) for d, n in service.counts(db.session, g.store, mail_now(current_app)))
    return _json(definition, sizes[row.key])


@bp.patch("/segments/<key>")
@documented(summary="Change a segment of the store's own (name, conditions)", request=CHANGE, response=SEGMENT,
            errors={422: "A field refused: {error, field, message}"})  # fmt: skip
@merchant_required
def admin_segment_change(key: str) -> tuple[Response, int]:
    row = editing.find(db.session, g.store, key)
    if row is None:
        return jsonify(error="not_found"), 404
    try:
        editing.change(db.session, g.store, row, request.get_json(silent=True))
    except ConditionError as exc:
        return _refused(exc)
    db.session.commit()
    return jsonify(_answer(row)), 200


@bp.delete("/segments/<key>")
@documented(summary="Delete a segment of the store's own", response=obj("deleted", deleted={"type": "string"}))
@merchant_required
def admin_segment_delete(key: str) -> tuple[Response, int]:
    row = editing.find(db.session, g.store, key)
    if row is None:
        return jsonify(error="not_found"), 404
    editing.delete(db.session, g.store, row)
    db.session.commit()
    return jsonify(deleted=key), 200
