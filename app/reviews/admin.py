"""Admin API views for reviews (on the admin blueprint, /admin/api/v1, merchant_required)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.admin import audit, bp
from app.admin.auth import merchant_required
from app.admin.openapi import documented, obj
from app.extensions import db
from app.messaging.api import mail_now
from app.reviews.models.review import REVIEW_STATUSES, Review
from app.reviews.moderation import clean_reply, moderate_review, reply_to_review, store_review
from app.reviews.publishing import visible_rows
from app.reviews.service import as_admin
from app.reviews.settings import ReviewSettings, as_json, review_settings, update_review_settings
from app.security import secret_box
from app.stores.models import Store
from app.stores.storefront_keys import ensure_keys

REVIEW = obj("id", "status", id={"type": "integer"}, status={"enum": list(REVIEW_STATUSES)})


def _review(review_id: int) -> Review | None:
    return store_review(db.session, g.store, review_id)


@bp.get("/reviews")
@documented(
    summary="The store's latest 200 reviews, newest first",
    query=[{"name": "status", "in": "query", "required": False, "schema": {"enum": list(REVIEW_STATUSES)}}],
    response=obj("reviews", reviews={"type": "array", "items": REVIEW}),
    errors={400: "Unknown status"},
)
@merchant_required
def admin_reviews() -> tuple[Response, int]:
    status = request.args.get("status")
    stmt = select(Review).where(Review.store_id == g.store.id)
    if status:
        if status not in REVIEW_STATUSES:
            return jsonify(error="bad_request", message="status: published, held or rejected"), 400
        stmt = stmt.where(Review.status == status)
    rows = db.session.scalars(stmt.order_by(Review.id.desc()).limit(200)).all()
    return jsonify(reviews=[as_admin(r) for r in rows]), 200


@bp.post("/reviews/<int:review_id>/<any(publish, reject):action>")
@documented(summary="Publish or reject a review", response=REVIEW)
@merchant_required
def admin_moderate(review_id: int, action: str) -> tuple[Response, int]:
    review = _review(review_id)
    if review is None:
        return jsonify(error="not_found"), 404
    moderate_review(db.session, g.store, review, action, mail_now(current_app))
    return jsonify(as_admin(review)), 200


@bp.post("/reviews/<int:review_id>/reply")
@documented(
    summary="Reply to a review (shown under it)",
    request=obj("reply", reply={"type": "string", "minLength": 1, "maxLength": 4000, "pattern": r"\S"}),
    response=REVIEW,
    errors={400: "reply: 1-4000 characters"},
)
@merchant_required
def admin_reply(review_id: int) -> tuple[Response, int]:
    review = _review(review_id)
    body = request.get_json(silent=True) or {}
    text = clean_reply(body.get("reply") if isinstance(body, dict) else None)
    if review is None:
        return jsonify(error="not_found"), 404
    if text is None:
        return jsonify(error="bad_request", message="reply: 1-4000 characters"), 400
    reply_to_review(db.session, g.store, review, text, mail_now(current_app))
    return jsonify(as_admin(review)), 200


@bp.get("/reviews/public-key")
@documented(summary="The store's storefront public key", response=obj("public_key", public_key={"type": "string"}))
@merchant_required
def admin_public_key() -> tuple[Response, int]:
    """An alias kept for the admin UI: the store's one storefront public key (`ppk_...`), made on first need."""
    keys = ensure_keys(db.session, secret_box(), g.store)
    db.session.commit()
    return jsonify(public_key=keys.public_key), 200


@bp.get("/reviews/publishing")
@documented(
    summary="Review write-backs waiting or failed",
    response=obj("publications", publications={"type": "array", "items": obj("product_id", "status")}),
)
@merchant_required
def admin_publishing() -> tuple[Response, int]:
    """Write-backs of reviews to the store that are waiting (pending) or need the merchant (failed)."""
    return jsonify(publications=visible_rows(db.session, g.store.id)), 200


def save_review_settings(session: Session, store: Store, patch: Any) -> ReviewSettings:
    """The one way a merchant changes the settings (this API and the dashboard): validated, saved, audited as
    `settings.update` (the caller commits; SettingsError names the field, nothing saved)."""
    with audit.settings_change(session, store, "reviews"):
        return update_review_settings(session, store, patch)


@bp.get("/reviews/settings")
@documented(summary="The effective review settings, defaults filled in", response={"type": "object"})
@merchant_required
def admin_review_settings() -> tuple[Response, int]:
    """The effective review settings, defaults filled in."""
    return jsonify(as_json(review_settings(g.store))), 200


@bp.patch("/reviews/settings")
@documented(
    summary="Merge a patch into the review settings (validated; nothing saved on a bad value)",
    request={"type": "object"},
    response={"type": "object"},
    errors={422: "A bad value (the field is named)"},
)
@merchant_required
def admin_patch_review_settings() -> tuple[Response, int]:
    """Merge a JSON patch; a bad value is 422 with its field (SettingsError), nothing saved."""
    settings = save_review_settings(db.session, g.store, request.get_json(silent=True))
    db.session.commit()
    return jsonify(as_json(settings)), 200
