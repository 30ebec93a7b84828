"""Admin API for campaigns (on the admin blueprint, /admin/api/v1, merchant_required). docs/campaigns.md."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, jsonify, request

from app.admin import bp
from app.admin.auth import merchant_required
from app.admin.openapi import documented, obj
from app.campaigns import service
from app.campaigns.models import Campaign
from app.campaigns.settings import KINDS, LOCALES, ConditionError
from app.extensions import db
from app.messaging.api import mail_now

TEXT = obj("subject", "body", subject={"type": "string", "minLength": 1, "maxLength": 150},
           body={"type": "string", "minLength": 1, "maxLength": 5000})  # fmt: skip
COUPON = obj("kind", "value", kind={"enum": ["percentage", "fixed_amount"]},
             value={"type": "string", "pattern": r"^[0-9]{1,6}(\.[0-9]{1,4})?$"},
             expires_days={"type": "integer", "minimum": 1, "maximum": 365})  # fmt: skip
MESSAGE = obj("kind", kind={"enum": list(KINDS)}, coupon=COUPON,
              texts={"type": "object", "properties": {locale: TEXT for locale in LOCALES}})  # fmt: skip
SCHEDULE = obj(at={"type": "string", "format": "date-time"},
               every_days={"type": ["integer", "null"], "minimum": 1, "maximum": 365})  # fmt: skip
SEGMENT_KEY = {"type": "string", "minLength": 1, "maxLength": 64}
CREATE = obj("name", "segment", "message", name={"type": "string", "minLength": 1, "maxLength": 120},
             segment=SEGMENT_KEY, message=MESSAGE, schedule=SCHEDULE)  # fmt: skip
RUN = obj("run", "status", "sent", "held_quiet_hours", "skipped_consent", "capped", "failed", "pending",
          run={"type": "integer"}, status={"type": "string"}, sent={"type": "integer"},
          held_quiet_hours={"type": "integer"}, skipped_consent={"type": "integer"}, capped={"type": "integer"},
          failed={"type": "integer"}, pending={"type": "integer"})  # fmt: skip
CAMPAIGN = obj("id", "name", "segment", "kind", "status", id={"type": "integer"}, name={"type": "string"},
               segment={"type": "string"}, kind={"enum": list(KINDS)}, status={"type": "string"},
               every_days={"type": ["integer", "null"]}, next_run_at={"type": ["string", "null"]},
               runs={"type": "array", "items": RUN})  # fmt: skip
PREVIEW = obj("audience", "eligible", audience={"type": "integer"}, eligible={"type": "integer"})
REFUSED = {422: "A field refused: {error, field, message}"}


def _json(campaign: Campaign, *, runs: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "id": campaign.id, "name": campaign.name, "segment": campaign.segment_key, "kind": campaign.kind,
        "status": campaign.status, "every_days": campaign.every_days, "coupon": campaign.coupon,
        "texts": campaign.texts, "next_run_at": campaign.next_run_at.isoformat() if campaign.next_run_at else None,
    }  # fmt: skip
    return answer | ({"runs": service.run_counts(db.session, g.store, campaign)} if runs else {})


def _refused(exc: ConditionError) -> tuple[Response, int]:
    db.session.rollback()
    return jsonify(error="invalid", field=exc.field, message=str(exc)), 422


@bp.get("/campaigns")
@documented(summary="The store's campaigns, newest first (the last 100), each with its runs' counts",
            response=obj("campaigns", campaigns={"type": "array", "items": CAMPAIGN}))  # fmt: skip
@merchant_required
def admin_campaigns() -> tuple[Response, int]:
    found = [_json(c, runs=True) for c in service.listed(db.session, g.store)]
    db.session.commit()
    return jsonify(campaigns=found), 200


@bp.post("/campaigns")
@documented(summary="Create a campaign: a segment, a message and a schedule (one-off or every N days)",
            request=CREATE, response=CAMPAIGN, status=201, errors=REFUSED)  # fmt: skip
@merchant_required
def admin_campaign_create() -> tuple[Response, int]:
    try:
        campaign = service.create(db.session, g.store, request.get_json(silent=True), mail_now(current_app))
    except ConditionError as exc:
        return _refused(exc)
    db.session.commit()
    return jsonify(_json(campaign, runs=True)), 201


@bp.post("/campaigns/preview")
@documented(summary="A segment as an audience now: its size and how many may be sent marketing",
            request=obj("segment", segment=SEGMENT_KEY),
            response=PREVIEW, errors=REFUSED)  # fmt: skip
@merchant_required
def admin_campaign_preview() -> tuple[Response, int]:
    body = request.get_json(silent=True)
    key = body.get("segment") if isinstance(body, dict) else None
    found = service.preview(db.session, g.store, key, mail_now(current_app)) if isinstance(key, str) else None
    db.session.commit()
    if found is None:
        return jsonify(error="invalid", field="segment", message="the key of one of the store's segments"), 422
    return jsonify(found), 200


@bp.get("/campaigns/<int:campaign_id>")
@documented(summary="One campaign with each run's counts (sent, held for quiet hours, skipped for consent...)",
            response=CAMPAIGN)  # fmt: skip
@merchant_required
def admin_campaign(campaign_id: int) -> tuple[Response, int]:
    campaign = service.find(db.session, g.store, campaign_id)
    if campaign is None:
        return jsonify(error="not_found"), 404
    answer = _json(campaign, runs=True)
    db.session.commit()
    return jsonify(answer), 200


@bp.post("/campaigns/<int:campaign_id>/cancel")
@documented(summary="Cancel a campaign: no new run starts, a run under way stops at its next batch",
            response=CAMPAIGN)  # fmt: skip
@merchant_required
def admin_campaign_cancel(campaign_id: int) -> tuple[Response, int]:
    campaign = service.find(db.session, g.store, campaign_id)
    if campaign is None:
        return jsonify(error="not_found"), 404
    service.cancel(db.session, g.store, campaign, mail_now(current_app))
    db.session.commit()
    return jsonify(_json(campaign, runs=True)), 200
