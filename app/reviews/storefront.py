"""Reviews behind the storefront door: the widget's submission and the public reading API.

`POST /reviews`, `GET /products/<product_id>/reviews?sort=newest|highest|lowest&page=N` and
`GET /products/<product_id>/reviews/summary`, registered with `@storefront_route`, so they are served at
/api/v1/... and /proxy/api/v1/... (Shopify app proxy) with the storefront's shopper resolution, CORS, rate
limits, body cap and OpenAPI schemas. The store is the one the door resolved (public store key `ppk_...`, a
WooCommerce customer token or the app proxy signature): one public key per store, no key of our own.
"""

from __future__ import annotations

import re
import time
from typing import Any

from flask import Response, current_app, jsonify, request
from werkzeug.exceptions import BadRequest

from app.reviews import photo_storage
from app.reviews.form import STATUS, store_review
from app.reviews.links import read_star_token
from app.reviews.reading import (
    CACHE_SECONDS,
    SORTS,
    product_reviews,
    product_summary,
    summary_copy_name,
    summary_keys,
)
from app.reviews.service import as_public
from app.reviews.settings import review_settings
from app.reviews.storage import MAX_PHOTO_BYTES
from app.storefront.copies import Kept, Lasting
from app.storefront.registry import register_schema, storefront_route
from app.storefront.shopper import Shopper, current_identity

PRODUCT_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
_PRODUCT_PARAM = {"product_id": {"type": "string", "pattern": "^" + PRODUCT_ID.pattern + "$"}}
MAX_PAGE = 1000
# The settings allow up to 10 photos; the per-store count is applied once the store is known (below).
MAX_UPLOAD_BYTES = 10 * MAX_PHOTO_BYTES + 256 * 1024

_TEXT = {"type": ["string", "null"]}
REVIEW = register_schema(
    "Review",
    {
        "type": "object",
        "required": ["id", "product_id", "rating", "verified", "photos", "photo_urls", "published_at"],
        "properties": {
            "id": {"type": "integer"},
            "product_id": {"type": "string"},
            "rating": {"type": "integer", "minimum": 1, "maximum": 5},
            "title": _TEXT,
            "body": _TEXT,
            "display_name": _TEXT,
            "verified": {"type": "boolean"},
            "photos": {"type": "array", "items": {"type": "string"}},
            "photo_urls": {"type": "array", "items": {"type": "string"}},
            "merchant_reply": _TEXT,
            "published_at": _TEXT,
        },
    },
)
REVIEW_PAGE = register_schema(
    "ReviewPage",
    {
        "type": "object",
        "required": ["reviews", "page", "page_size", "total"],
        "properties": {
            "reviews": {"type": "array", "items": REVIEW},
            "page": {"type": "integer", "minimum": 1},
            "page_size": {"type": "integer"},
            "total": {"type": "integer", "minimum": 0},
        },
    },
)
REVIEW_SUMMARY = register_schema(
    "ReviewSummary",
    {
        "type": "object",
        "required": ["product_id", "count", "average", "distribution"],
        "properties": {
            "product_id": {"type": "string"},
            "count": {"type": "integer", "minimum": 0},
            "average": {"type": ["string", "null"], "pattern": r"^[1-5]\.[0-9]{2}$"},
            "distribution": {
                "type": "object",
                "required": ["1", "2", "3", "4", "5"],
                "additionalProperties": {"type": "integer", "minimum": 0},
            },
        },
    },
)
SUBMITTED = register_schema(
    "SubmittedReview",
    {
        "type": "object",
        "required": ["review"],
        "properties": {"review": {"allOf": [REVIEW], "properties": {"status": {"type": "string"}}}},
    },
)
SUBMISSION = {
    "type": "object",
    "required": ["token"],
    "properties": {
        "token": {"type": "string", "description": "the token of a star link from the review request e-mail"},
        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
        "title": {"type": "string", "maxLength": 200},
        "body": {"type": "string", "maxLength": 5000},
        "display_name": {"type": "string", "maxLength": 80},
    },
}
_PAGE_QUERY = (
    {"name": "sort", "in": "query", "required": False, "schema": {"type": "string", "enum": sorted(SORTS)}},
    {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
)


def _product(product_id: str) -> str:
    if PRODUCT_ID.fullmatch(product_id) is None:
        raise BadRequest(description="product_id")
    return product_id


def _photo_urls(review: dict[str, Any]) -> dict[str, Any]:
    # Absolute URLs on our host: behind the Shopify app proxy a relative /r/photos/... would resolve on the shop.
    # A public S3 bucket (S3_PUBLIC_BASE_URL) is linked directly; a private one through /r/photos (a redirect).
    base = current_app.config.get("APP_URL", "").rstrip("/")
    storage = photo_storage()
    urls = [storage.public_url(key) or f"{base}/r/photos/{key}" for key in review.get("photos") or []]
    return {**review, "photo_urls": urls}


@storefront_route(
    "/reviews",
    methods=["POST"],
    summary="Submit a review from a star link (JSON, or multipart with photos)",
    response=SUBMITTED,
    request=SUBMISSION,
    max_body=MAX_UPLOAD_BYTES,
    status=201,
    errors={"409": "Already reviewed (one review per product per order)", "410": "The star link has expired"},
)
def submit_review_api() -> tuple[Response, int]:
    store = current_identity().store
    payload = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    if not isinstance(payload, dict):
        return jsonify(error="bad_request"), 400
    link = read_star_token(str(payload.get("token") or ""))  # LinkExpired 410, LinkInvalid 400: app/errors.py
    if link.store_id != store.id:  # a link of another store: as unknown as a forged one
        return jsonify(error="link_invalid"), 400
    request.max_content_length = review_settings(store).max_photos * MAX_PHOTO_BYTES + 256 * 1024
    fields = {k: payload.get(k) for k in ("title", "body", "display_name")}
    fields["rating"] = str(payload.get("rating") or link.rating)
    files = [] if request.is_json else request.files.getlist("photos")
    review, error = store_review(link, store, fields, files)
    if error is not None:
        return jsonify(error=error), STATUS.get(error, 410)
    return jsonify(review={**_photo_urls(as_public(review)), "status": review.status}), 201


@storefront_route(
    "/products/<product_id>/reviews",
    summary="A page of a product's published reviews",
    response=REVIEW_PAGE,
    query=_PAGE_QUERY,
    path_params=_PRODUCT_PARAM,
)
def product_reviews_api(product_id: str) -> Response:
    sort = request.args.get("sort", "newest")
    page = request.args.get("page", "1")
    if sort not in SORTS or not page.isdigit() or not 1 <= int(page) <= MAX_PAGE:
        raise BadRequest(description="sort: newest|highest|lowest; page: 1-1000")
    answer = product_reviews(current_identity().store_id, _product(product_id), sort, int(page))
    answer["reviews"] = [_photo_urls(r) for r in answer["reviews"]]
    return jsonify(answer)


def _summary_prefetch(shopper: Shopper, kwargs: dict[str, Any]) -> tuple[str, ...]:
    """The Redis copy's keys, read after the rate limits (not asked when this process's copy answers)."""
    product_id = kwargs.get("product_id", "")
    return summary_keys(shopper.store_id, product_id) if PRODUCT_ID.fullmatch(product_id) else ()


def _summary_name(shopper: Shopper, kwargs: dict[str, Any]) -> str | None:
    product_id = kwargs.get("product_id", "")
    return summary_copy_name(shopper.store_id, product_id) if PRODUCT_ID.fullmatch(product_id) else None


@storefront_route(
    "/products/<product_id>/reviews/summary",
    summary="A product's published review count, average and distribution",
    response=REVIEW_SUMMARY,
    path_params=_PRODUCT_PARAM,
    prefetch=_summary_prefetch,
    door=True,
    kept=Kept(name=_summary_name),
)
def product_summary_api(shopper: Shopper, product_id: str) -> Lasting:
    # A door route: answered before Flask (app/storefront/door.py), and kept by the process (a product page's
    # stars, asked on every view) until reading.invalidate names it; else Redis (one MGET), else the database.
    answer = product_summary(shopper.store_id, _product(product_id), shopper.prefetched)
    return Lasting(answer, int(time.time() * 1000) + CACHE_SECONDS * 1000)  # the Redis copy's bound too
