"""Admin API: the loyalty programme's settings, the liability report, one customer's points, manual adjustments.

All under /admin/api/v1 and merchant_required: the store is g.store, never a request parameter, and a customer
id is looked up within g.store only (another store's customer is a 404, indistinguishable from a missing one).
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request
from sqlalchemy.orm import Session

from app.admin import audit, bp
from app.admin.auth import merchant_required
from app.admin.openapi import documented, obj
from app.extensions import db
from app.loyalty.adjustments import (
    MAX_ADJUST,
    AdjustmentInvalid,
    adjust_points,
    check_adjustment,
    customer_summary,
    row_json,
)
from app.loyalty.report import liability_report
from app.loyalty.settings import LoyaltySettings, SettingsError, as_json, get_settings, update_settings
from app.platform.types import utcnow
from app.records.customers import store_customer
from app.stores.models import Store

_INVALID = {422: "Refused input: {error, field, message} names the field"}
SETTINGS = obj()  # the effective settings (docs/loyalty.md), defaults included
LEDGER_ROW = obj("id", "source_key", "kind", "points", id={"type": "integer"}, points={"type": "integer"})
ADJUST = obj(
    "points",
    "reason",
    "idempotency_key",
    points={"type": "integer", "minimum": -MAX_ADJUST, "maximum": MAX_ADJUST, "not": {"const": 0}},
    reason={"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"},
    idempotency_key={"type": "string", "minLength": 1, "maxLength": 100},
)


def _invalid(field: str, message: str, error: str = "invalid") -> tuple[Response, int]:
    return jsonify(error=error, field=field, message=message), 422


def _body() -> Any:
    # JSON floats arrive as float and the settings validators refuse them (decimals are strings)
    return request.get_json(silent=True)


def _not_found() -> tuple[Response, int]:
    return jsonify(error="not_found", message="no such customer"), 404


def save_settings(session: Session, store: Store, patch: Any) -> LoyaltySettings:
    """The one way a merchant changes the settings (this API and the dashboard): validated, saved, audited as
    `settings.update` with what changed (the caller commits; SettingsError names the field, nothing saved)."""
    with audit.settings_change(session, store, "loyalty"):
        return update_settings(session, store, patch)


@bp.get("/loyalty/settings")
@documented(summary="The loyalty programme's settings", response=SETTINGS, errors=_INVALID)
@merchant_required
def loyalty_settings() -> Any:
    try:
        return jsonify(as_json(get_settings(g.store)))
    except SettingsError as exc:  # stored before a validation rule existed: say which field to fix
        return _invalid(exc.field, exc.message, "stored_settings_invalid")


@bp.patch("/loyalty/settings")
@documented(
    summary="Change loyalty settings (a partial object, merged and validated)",
    request={"type": "object"},
    response=SETTINGS,
    errors={**_INVALID, 400: "Not JSON"},
)
@merchant_required
def patch_loyalty_settings() -> Any:
    patch = _body()
    if not isinstance(patch, dict):
        return _invalid("loyalty", "send a JSON object")
    settings = save_settings(db.session, g.store, patch)
    db.session.commit()
    return jsonify(as_json(settings))


@bp.get("/loyalty/report")
@documented(
    summary="Points liability per currency",
    response=obj("store_id", "as_of", "currencies", currencies={"type": "array", "items": {"type": "object"}}),
)
@merchant_required
def loyalty_report() -> Any:
    return jsonify(liability_report(db.session, g.store, utcnow()))


@bp.get("/customers/<int:customer_id>/loyalty")
@documented(summary="One customer's points, rows and redemptions", response=obj("customer", "balance"))
@merchant_required
def customer_loyalty(customer_id: int) -> Any:
    customer = store_customer(db.session, g.store, customer_id)
    if customer is None:
        return _not_found()
    return jsonify(customer_summary(db.session, g.store, customer, utcnow()))


@bp.post("/customers/<int:customer_id>/loyalty/adjust")
@documented(
    summary="Add or remove points by hand (idempotent by idempotency_key)",
    request=ADJUST,
    response=obj("created", "row", created={"type": "boolean"}, row=LEDGER_ROW),
    status=(201, 200),
    errors={**_INVALID, 409: "The idempotency key was used with another amount"},
)
@merchant_required
def adjust_customer_points(customer_id: int) -> Any:
    customer = store_customer(db.session, g.store, customer_id)
    if customer is None:
        return _not_found()
    body = _body()
    if not isinstance(body, dict):
        return _invalid("body", "send a JSON object")
    points, reason, key = body.get("points"), body.get("reason"), body.get("idempotency_key")
    try:
        points, reason = check_adjustment(points, reason)
    except AdjustmentInvalid as exc:
        return _invalid(exc.field, exc.message)
    if not isinstance(key, str) or not 1 <= len(key) <= 100:
        return _invalid("idempotency_key", "a string of 1 to 100 characters")
    row, created = adjust_points(db.session, g.store, customer, points, reason, key, utcnow())
    if created:  # a replay of the same key is no new action
        # The reason stays on the ledger row only: the merchant's words may name the shopper.
        audit.record(db.session, g.store, "points.adjust", f"customer:{customer.id}", {"points": points, "row": row.id})
    db.session.commit()
    return jsonify(created=created, row=row_json(row)), 201 if created else 200
