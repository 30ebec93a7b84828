"""JSON endpoints: the widget's submission (POST /api/v1/reviews) and the storefront reading API.

Reading: GET /api/v1/products/<product_id>/reviews?sort=newest|highest|lowest&page=N and
GET /api/v1/products/<product_id>/reviews/summary, with the store's public key in `?key=` or the
`X-Store-Key` header (see app/reviews/__init__.py).
"""

from __future__ import annotations

from flask import Response, jsonify, request

from ..extensions import db
from ..models import Store
from ..services.review_links import LinkExpired, LinkInvalid, read_star_token
from ..services.reviews import as_public
from . import bp
from .form import STATUS, store_review
from .reading import SORTS, product_reviews, product_summary, store_from_public_key


@bp.post("/api/v1/reviews")
def submit() -> tuple[Response, int]:
    """JSON {token, rating, title?, body?, display_name?} or multipart with photos; token from a star link."""
    payload = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    if not isinstance(payload, dict):
        return jsonify(error="bad_request"), 400
    try:
        link = read_star_token(str(payload.get("token") or ""))
    except LinkExpired:
        return jsonify(error="link_expired"), 410
    except LinkInvalid:
        return jsonify(error="link_invalid"), 400
    store = db.session.get(Store, link.store_id)
    if store is None:
        return jsonify(error="link_invalid"), 400
    fields = {k: payload.get(k) for k in ("title", "body", "display_name")}
    fields["rating"] = str(payload.get("rating") or link.rating)
    files = [] if request.is_json else request.files.getlist("photos")
    review, error = store_review(link, store, fields, files)
    if error is not None:
        return jsonify(error=error), STATUS.get(error, 410)
    return jsonify(review={**as_public(review), "status": review.status}), 201


def _store() -> Store | None:
    return store_from_public_key(request.args.get("key") or request.headers.get("X-Store-Key"))


@bp.get("/api/v1/products/<product_id>/reviews")
def list_reviews(product_id: str) -> tuple[Response, int]:
    store = _store()
    if store is None:
        return jsonify(error="unknown_store"), 401
    sort = request.args.get("sort", "newest")
    page = request.args.get("page", "1")
    if sort not in SORTS or not page.isdigit() or not 1 <= int(page) <= 1000:
        return jsonify(error="bad_request"), 400
    return jsonify(product_reviews(store, product_id[:64], sort, int(page))), 200


@bp.get("/api/v1/products/<product_id>/reviews/summary")
def summary(product_id: str) -> tuple[Response, int]:
    store = _store()
    if store is None:
        return jsonify(error="unknown_store"), 401
    return jsonify(product_summary(store, product_id[:64])), 200
