"""Admin API: the store's referrals, the merchant's decision on flagged ones, and the programme's report.

GET  /admin/api/v1/referrals?status=flagged&limit=100
POST /admin/api/v1/referrals/<id>/approve    flagged -> pending (rewarded once past the return window)
POST /admin/api/v1/referrals/<id>/reject     flagged -> rejected (never rewarded)
GET  /admin/api/v1/referrals/report
GET  /admin/api/v1/referrals/settings        the effective settings (defaults filled in)
PATCH /admin/api/v1/referrals/settings       merge a patch; 422 with the field when refused, nothing saved
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request
from sqlalchemy.orm import Session

from app.admin import audit, bp
from app.admin.auth import merchant_required
from app.admin.openapi import documented, obj
from app.extensions import db
from app.referrals.models import STATUSES
from app.referrals.service import as_dict, audit_decision, decide, list_referrals, report
from app.referrals.settings import ReferralSettings, get_settings, update_settings
from app.stores.models import Store

REFERRAL = obj("id", "status", "reasons", id={"type": "integer"}, status={"enum": list(STATUSES)})
_QUERY = [
    {"name": "status", "in": "query", "required": False, "schema": {"type": "string", "enum": list(STATUSES)}},
    {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
]


@bp.get("/referrals")
@documented(
    summary="The store's referrals, newest first",
    query=_QUERY,
    response=obj("referrals", referrals={"type": "array", "items": REFERRAL}),
    errors={400: "Unknown status"},
)
@merchant_required
def referrals_index() -> Response | tuple[Response, int]:
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        return jsonify(error="bad_status", message=f"status is one of {', '.join(STATUSES)}"), 400
    limit = min(max(request.args.get("limit", 100, type=int) or 100, 1), 500)
    return jsonify(referrals=list_referrals(db.session, g.store, status, limit))


def _decide(referral_id: int, approve: bool) -> Response | tuple[Response, int]:
    try:
        referral = decide(db.session, g.store, referral_id, approve=approve, by="merchant:admin_api")
    except LookupError:
        db.session.rollback()
        return jsonify(error="not_found", message="no such referral in this store"), 404
    audit_decision(db.session, g.store, referral)
    db.session.commit()
    return jsonify(as_dict(referral))


@bp.post("/referrals/<int:referral_id>/approve")
@documented(summary="Approve a flagged referral (it is rewarded after the return window)", response=REFERRAL)
@merchant_required
def referrals_approve(referral_id: int) -> Response | tuple[Response, int]:
    return _decide(referral_id, True)


@bp.post("/referrals/<int:referral_id>/reject")
@documented(summary="Reject a flagged referral (never rewarded)", response=REFERRAL)
@merchant_required
def referrals_reject(referral_id: int) -> Response | tuple[Response, int]:
    return _decide(referral_id, False)


@bp.get("/referrals/report")
@documented(summary="The programme's figures", response=obj("codes_shared", "landings", "referrals", "by_status"))
@merchant_required
def referrals_report() -> Response:
    return jsonify(report(db.session, g.store))


def save_settings(session: Session, store: Store, patch: Any) -> ReferralSettings:
    """The one way a merchant changes the settings (this API and the dashboard): validated, saved, audited as
    `settings.update` (the caller commits; SettingsError names the field, nothing saved)."""
    with audit.settings_change(session, store, "referrals"):
        return update_settings(session, store, patch)


@bp.get("/referrals/settings")
@documented(summary="The referral programme's settings", response={"type": "object"})
@merchant_required
def referrals_settings() -> Response:
    return jsonify(get_settings(g.store).raw)  # SettingsError for a stored value a rule refuses: 422, its field


@bp.patch("/referrals/settings")
@documented(
    summary="Merge a patch into the referral settings (validated; nothing saved on a bad value)",
    request={"type": "object"},
    response={"type": "object"},
    errors={422: "A bad value (the field is named)"},
)
@merchant_required
def patch_referrals_settings() -> Response:
    """Decimals as strings ("10"): a JSON number with a fraction is refused by the settings' validation."""
    settings = save_settings(db.session, g.store, request.get_json(silent=True))  # SettingsError: 422
    db.session.commit()
    return jsonify(settings.raw)
