"""Admin API: the cards as PDF (on the admin blueprint, /admin/api/v1, merchant_required)."""

from __future__ import annotations

import re

from flask import Response, g, jsonify, request

from app.admin import bp
from app.admin.auth import merchant_required
from app.admin.openapi import documented
from app.extensions import db
from app.inserts.cards import parse_day
from app.inserts.service import day_sheet, order_card

PDF = {"type": "string", "contentMediaType": "application/pdf"}
_PLATFORM_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


def _pdf(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"  # names and links of one customer
    return response


@bp.get("/inserts/orders/<order_id>.pdf")
@documented(summary="One order's printable card (A6 PDF)", response=PDF, media_type="application/pdf")
@merchant_required
def admin_order_card(order_id: str) -> Response | tuple[Response, int]:
    if not _PLATFORM_ID.fullmatch(order_id):
        return jsonify(error="not_found"), 404
    data = order_card(db.session, g.store, order_id)
    if data is None:
        return jsonify(error="not_found"), 404
    db.session.commit()  # a referral code drawn for the card
    return _pdf(data, f"card-{order_id}.pdf")


@bp.get("/inserts/day.pdf")
@documented(
    summary="The day's cards, four A6 cards per A4 sheet with cut marks (PDF)",
    response=PDF,
    media_type="application/pdf",
    query=[{"name": "date", "in": "query", "required": False, "schema": {"type": "string", "format": "date"}}],
    errors={400: "date: YYYY-MM-DD"},
)
@merchant_required
def admin_day_sheet() -> Response | tuple[Response, int]:
    try:
        day = parse_day(request.args.get("date"), g.store)
    except ValueError:
        return jsonify(error="bad_request", message="date: YYYY-MM-DD"), 400
    data, _count = day_sheet(db.session, g.store, day)
    db.session.commit()
    return _pdf(data, f"cards-{day.isoformat()}.pdf")
