"""The one-page review form behind a star link, and the get-help form.

GET /r/<token>: the form, stars pre-filled from the link (a GET stores nothing: mail scanners follow
links). POST /r/<token>: stores the review (multipart: rating, title, body, display_name, photos).
GET|POST /r/help/<token>: a message to the merchant instead of a review, stored as a support message (app/support:
kept for the merchant's admin, e-mailed to the store's notification list or e-mail). No login: the signed link is
the key.
Bad signature 400, expired 410. Pages are localised with the e-mail catalogues (the link's locale).
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Response, current_app, request
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from app.errors import AppError
from app.extensions import db
from app.messaging.api import branding, mail_now, render_page
from app.platform.sql import get_in_store
from app.records.models import Order
from app.reviews import bp, photo_storage
from app.reviews.links import LinkExpired, StarLink, read_help_token, read_star_token
from app.reviews.models import ReviewRequest
from app.reviews.models.review import HELD, REJECTED
from app.reviews.page import existing_review, product_shown
from app.reviews.publishing_tasks import kick_publishing
from app.reviews.reading import invalidate
from app.reviews.service import ReviewRefused, Submission, refusal, submit_review
from app.reviews.settings import review_settings
from app.reviews.storage import MAX_PHOTO_BYTES, PhotoRefused, read_photo
from app.stores.models import Store
from app.support import HELP, ShopperMessage, record

HEADERS = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def page(name: str, locale: str, status: int, store: Store | None = None, **values: Any) -> tuple[str, int, dict]:
    values.setdefault("store_name", (store.name or store.domain) if store else "")
    values.setdefault("brand", branding(store.settings if store else None))  # _page.html's bar and colours
    # The templates use StrictUndefined: every variable they read has a value.
    for key in ("error", "title", "body", "rating", "incentive"):
        values.setdefault(key, None)
    values.setdefault("held", False)
    values.setdefault("hidden", False)
    values.setdefault("product_title", "")
    values.setdefault("product_image", "")
    values.setdefault("max_photos", 0)
    values.setdefault("action", "")
    return render_page(name, locale, **values), status, HEADERS


def _refused_page(exc: AppError) -> tuple[str, int, dict]:
    """The form's own error handler: a domain error its views let through is an HTML page of the error's status,
    never JSON. Mostly a star or help link that is not ours (LinkInvalid, 400) or has expired (LinkExpired, 410)."""
    db.session.rollback()
    locale = request.accept_languages.best_match(["en", "pl", "hu", "lv", "kk", "th"]) or "en"
    name = "review_help.html" if request.endpoint == "reviews.help_form" else "review_form.html"
    return page(name, locale, exc.status, state="expired" if isinstance(exc, LinkExpired) else "invalid")


bp.register_error_handler(AppError, _refused_page)


def clean(value: Any, limit: int) -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    return text[:limit] or None


def parse_submission(form: Any, files: list, max_photos: int, store_id: int) -> Submission:
    """Validate the fields; raises PhotoRefused or ValueError("rating")."""
    try:
        rating = int(form.get("rating", ""))
    except ValueError:
        rating = 0
    if not 1 <= rating <= 5:
        raise ValueError("rating")
    files = [f for f in files if f and f.filename]
    if len(files) > max_photos:
        raise PhotoRefused("photo_count")
    photos = [read_photo(f.stream, MAX_PHOTO_BYTES) for f in files]  # all checked before any is kept
    stored = []
    for data, content_type, extension in photos:
        key = photo_storage().save(store_id, data, extension)
        stored.append({"key": key, "content_type": content_type, "size": len(data)})
    return Submission(
        rating=rating,
        title=clean(form.get("title"), 200),
        body=clean(form.get("body"), 5000),
        display_name=clean(form.get("display_name"), 80),
        photos=stored,
    )


def store_review(link: StarLink, store: Store, form: Any, files: list) -> Any:
    """Shared by the form and the JSON endpoint: (review, None) or (None, error code)."""
    cfg = review_settings(store)
    try:
        data = parse_submission(form, files, cfg.max_photos, store.id)
        review = submit_review(db.session, store, link, data, mail_now(current_app))
    except PhotoRefused as exc:
        db.session.rollback()
        return None, exc.code
    except ValueError:
        db.session.rollback()
        return None, "rating"
    except ReviewRefused as exc:
        db.session.rollback()
        return None, exc.code
    db.session.commit()
    invalidate(store.id, review.product_id)
    if review.status == "published":
        kick_publishing(store.id)  # the scheduler step enqueues it anyway if Redis is away now
    return review, None


STATUS = {"rating": 400, "photo_type": 400, "photo_size": 400, "photo_count": 400, "duplicate": 409}


@bp.route("/r/<token>", methods=["GET", "POST"])
def review_form(token: str):
    link = read_star_token(token)  # LinkInvalid, LinkExpired: _refused_page
    store = db.session.get(Store, link.store_id)
    request_row = get_in_store(db.session, ReviewRequest, link.request_id, link.store_id)
    if store is None or request_row is None:
        return page("review_form.html", link.locale, 400, state="invalid")
    order = db.session.scalar(
        select(Order).where(Order.store_id == store.id, Order.platform_id == request_row.order_platform_id)
    )
    cfg = review_settings(store)
    shown = product_shown(db.session, store.id, order, link.product_id)
    common = {
        "product_title": shown.title,
        "product_image": shown.image,
        "max_photos": cfg.max_photos,
        "incentive": cfg.incentive,
        "action": request.path,
    }
    if request.method == "GET":
        done = existing_review(db.session, request_row, link.product_id)
        if done is not None:  # the link opened again: say so now, not after the shopper has typed a review
            return page("review_form.html", link.locale, 200, store, state="reviewed", rating=done.rating,
                        title=done.title, body=done.body, held=done.status == HELD,
                        hidden=done.status == REJECTED, **common)  # fmt: skip
        if refusal(request_row, order, link.product_id) is not None:  # what the POST would answer, told first
            return page("review_form.html", link.locale, 410, store, state="closed", **common)
        return page("review_form.html", link.locale, 200, store, state="form", rating=link.rating, **common)
    request.max_content_length = cfg.max_photos * MAX_PHOTO_BYTES + 256 * 1024
    try:
        files = request.files.getlist("photos")
        form = request.form.to_dict()
    except RequestEntityTooLarge:
        return page("review_form.html", link.locale, 413, store, state="form", rating=link.rating,
                    error="photo_size", **common)  # fmt: skip
    review, error = store_review(link, store, form, files)
    if error in ("gone", "not_in_order"):
        return page("review_form.html", link.locale, 410, store, state="closed")
    if error is not None:
        values = {"rating": form.get("rating") or link.rating, "title": form.get("title"), "body": form.get("body")}
        return page("review_form.html", link.locale, STATUS[error], store, state="form", error=error,
                    **{**common, **values})  # fmt: skip
    return page("review_form.html", link.locale, 201, store, state="thanks", held=review.status != "published")


@bp.route("/r/help/<token>", methods=["GET", "POST"])
def help_form(token: str):
    link = read_help_token(token)  # LinkInvalid, LinkExpired: _refused_page
    store = db.session.get(Store, link.store_id)
    request_row = get_in_store(db.session, ReviewRequest, link.request_id, link.store_id)
    if store is None or request_row is None:
        return page("review_help.html", link.locale, 400, state="invalid")
    if request.method == "GET":
        return page("review_help.html", link.locale, 200, store, state="form", action=request.path)
    text = clean(request.form.get("message"), 4000)
    if text is None:
        return page("review_help.html", link.locale, 400, store, state="form", action=request.path, error="empty")
    order = db.session.scalar(
        select(Order).where(Order.store_id == store.id, Order.platform_id == request_row.order_platform_id)
    )
    # Stored in the transaction that answers the shopper; e-mailed to the merchant when the store has an address
    # (app/support). The key names the text: a double submit is one message, a second message is another.
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    message = ShopperMessage(
        kind=HELP, source_key=f"review_help:{request_row.id}:{digest}", body=text, customer_id=request_row.customer_id,
        order_platform_id=request_row.order_platform_id, order_name=order.name if order is not None else None,
        ref=f"review_request:{request_row.id}", locale=link.locale,
    )  # fmt: skip
    record(db.session, store, message, mail_now(current_app))
    request_row.follow_up = True
    db.session.commit()
    return page("review_help.html", link.locale, 200, store, state="sent")


@bp.get("/r/photos/<int:store_id>/<name>")
def photo(store_id: int, name: str) -> Response:
    storage = photo_storage()
    link = storage.link(f"{store_id}/{name}")
    if link is not None:
        # S3: the browser fetches the object itself (public URL or a presigned GET); cached shorter than a
        # presigned URL lives, so a cached redirect never points at an expired signature.
        max_age = min(300, int(current_app.config.get("S3_PRESIGN_SECONDS", 3600)) // 2)
        return Response(status=302, headers={"Location": link, "Cache-Control": f"public, max-age={max_age}"})
    data = storage.open(f"{store_id}/{name}")
    if data is None:
        return Response(status=404)
    from app.reviews.storage import sniff

    kind = sniff(data[:16])
    headers = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
    return Response(data, mimetype=kind[0] if kind else "application/octet-stream", headers=headers)
