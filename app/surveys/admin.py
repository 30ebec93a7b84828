"""Admin API: the survey's results per period (on the admin blueprint, /admin/api/v1, merchant_required). Its
settings are a section of the store-wide settings (PATCH /admin/api/v1/store/settings {"surveys": {...}})."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import Response, current_app, g, jsonify, request

from app.admin import bp
from app.admin.auth import merchant_required
from app.admin.openapi import documented, obj
from app.extensions import db
from app.messaging.api import mail_now
from app.platform.types import strict_day
from app.surveys.results import results

DATE = {"type": "string", "format": "date"}


def _day(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    return datetime.combine(strict_day(raw), time(0), tzinfo=UTC)


@bp.get("/surveys/results")
@documented(
    summary="Survey results for requests sent in [from, to) (default: the last 30 days): NPS, CSAT, response rate, "
    "comments, recoveries, customers who bought again",
    query=[
        {"name": "from", "in": "query", "required": False, "schema": DATE},
        {"name": "to", "in": "query", "required": False, "schema": DATE},
    ],  # fmt: skip
    response=obj("sent", "answered", "nps", "csat", "response_rate", "recoveries", "comments"),
    errors={400: "from, to: YYYY-MM-DD, from before to"},
)
@merchant_required
def admin_survey_results() -> tuple[Response, int]:
    try:
        end = _day("to") or (mail_now(current_app).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(1))
        start = _day("from") or end - timedelta(days=30)
    except ValueError:
        return jsonify(error="bad_request", message="from, to: YYYY-MM-DD, from before to"), 400
    if start >= end:
        return jsonify(error="bad_request", message="from, to: YYYY-MM-DD, from before to"), 400
    return jsonify(results(db.session, g.store, start, end) | {"from": start.date().isoformat(),
                                                                "to": end.date().isoformat()}), 200  # fmt: skip
