"""Reviews left through a signed link: storing, moderation, the merchant's alert, the loyalty reward.

Moderation: published at once when the rating reaches `auto_publish_threshold` and the guard finds
nothing; otherwise held for the merchant. The guard is deliberately small (a word list per language,
links, runs of one character): it holds, it never rejects. A 1-2 star review is a support message for the
merchant (app/support: kept, and e-mailed as merchant_low_rating_alert) and flags the request for
follow-up. Any review earns the loyalty "review" action when that module exists: never conditioned on
the rating (paying only for good reviews is forbidden by consumer law in the EU/UK and by the FTC's rule
on fake reviews, 16 CFR 465.4).
"""

from __future__ import annotations

import importlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from app.errors import Conflict, Gone
from app.platform.sql import get_in_store
from app.records.models import Customer, Order
from app.recovery import open_case
from app.reviews.links import StarLink
from app.reviews.models.review import HELD, PUBLISHED, REJECTED, REMINDED, REVIEWED, SENT, Review, ReviewRequest
from app.reviews.publishing import mark_dirty
from app.reviews.settings import review_settings
from app.stores.models import Store
from app.support import LOW_RATING, ShopperMessage, record

log = logging.getLogger(__name__)

# Small on purpose: common abuse and spam words per language; the merchant sees what is held.
BLOCKED_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"fuck", "shit", "bitch", "cunt", "asshole", "viagra", "casino", "crypto"}),
    "pl": frozenset({"kurwa", "chuj", "pierdol", "jebać", "jebac", "spierdalaj", "kasyno"}),
    "hu": frozenset({"kurva", "bazdmeg", "fasz", "geci", "kaszinó"}),
    "lv": frozenset({"pizda", "mauka", "dirsa", "kazino"}),
    "kk": frozenset({"сука", "блядь", "блять", "казино"}),
    "th": frozenset({"เหี้ย", "สัส", "ควย", "คาสิโน"}),
}
URL = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
REPEATED = re.compile(r"(.)\1{5,}")  # six or more of one character: "!!!!!!", "aaaaaa"
MAX_LINKS = 0  # a review has no reason to link anywhere


class ReviewRefused(Gone):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # "gone" (request cancelled / order gone), "duplicate", "not_in_order"
        if code == "duplicate":
            self.status = Conflict.status


@dataclass(frozen=True)
class Submission:
    rating: int
    title: str | None
    body: str | None
    display_name: str | None
    photos: list[dict[str, Any]]


def guard(locale: str | None, *texts: str | None) -> str | None:
    """Why a text should be held, or None. Every language's list is checked (buyers mix languages)."""
    text = " ".join(t for t in texts if t)
    if not text:
        return None
    if len(URL.findall(text)) > MAX_LINKS:
        return "links"
    if REPEATED.search(text):
        return "repeated_characters"
    lowered = text.casefold()
    words = set(re.findall(r"\w+", lowered))
    for lang, blocked in BLOCKED_WORDS.items():
        for word in blocked:
            # Thai has no spaces between words: a substring test there; whole words elsewhere.
            if (lang == "th" and word in lowered) or word in words or any(w.startswith(word) for w in words):
                return "profanity"
    return None


def award_review(session: Session, store: Store, customer: Customer | None, ref: str) -> bool:
    """The loyalty reward for a review, when app/loyalty/api.py provides award_action (else nothing)."""
    if customer is None:
        return False
    try:
        loyalty = importlib.import_module("app.loyalty.api")
    except ImportError:
        return False
    award = getattr(loyalty, "award_action", None)
    if award is None:
        return False
    award(session, store, customer, "review", ref)
    return True


def product_title(order: Order, product_id: str) -> str | None:
    for item in order.line_items or []:
        if item.get("product_id") == product_id:
            return item.get("title")
    return None


def refusal(request: ReviewRequest, order: Order | None, product_id: str) -> str | None:
    """Why a star link can no longer take a review ("gone", "not_in_order"), or None: the form's GET asks it
    too, so a closed request says so before the shopper types."""
    if request.status not in (SENT, REMINDED, REVIEWED) or order is None or order.deleted_at is not None:
        return "gone"
    return "not_in_order" if product_title(order, product_id) is None else None


def submit_review(session: Session, store: Store, link: StarLink, data: Submission, now: datetime) -> Review:
    """Store the review a star link leads to; raises ReviewRefused. Caller commits."""
    request = get_in_store(session, ReviewRequest, link.request_id, store.id, for_update=True)
    if request is None:
        raise ReviewRefused("gone")
    order = session.scalar(
        select(Order).where(Order.store_id == store.id, Order.platform_id == request.order_platform_id)
    )
    closed = refusal(request, order, link.product_id)
    if closed is not None or order is None:
        raise ReviewRefused(closed or "gone")
    title = product_title(order, link.product_id) or ""
    cfg = review_settings(store)
    held_for = guard(link.locale, data.title, data.body, data.display_name)
    if held_for is None and data.rating < cfg.auto_publish_threshold:
        held_for = "below_threshold"
    review = Review(
        store_id=store.id,
        request_id=request.id,
        product_id=link.product_id,
        product_title=title,
        order_platform_id=order.platform_id,
        customer_id=request.customer_id,
        rating=data.rating,
        title=data.title,
        body=data.body,
        photos=data.photos,
        display_name=data.display_name,
        locale=link.locale,
        verified=True,  # the signed link names this order, which contains this product
        status=HELD if held_for else PUBLISHED,
        moderation_reason=held_for,
        published_at=None if held_for else now,
    )
    try:
        with session.begin_nested():
            session.add(review)
            session.flush()
    except IntegrityError as exc:
        raise ReviewRefused("duplicate") from exc
    request.status, request.reminder_due_at = REVIEWED, None
    if review.status == PUBLISHED:
        mark_dirty(session, store.id, review.product_id, now)  # written back to the store by its job
    if data.rating <= 2:
        request.follow_up = True
        _alert_merchant(session, store, review, order.name, now)
        # The same recovery as a late parcel or a survey detractor (app/recovery: once per order, the store's
        # recovery settings decide: enabled and "low_ratings").
        open_case(session, store, order_id=review.order_platform_id, customer_id=review.customer_id,
                  reason="low_rating", source=f"review:{review.id}", now=now)  # fmt: skip
    customer = get_in_store(session, Customer, request.customer_id, request.store_id) if request.customer_id else None
    award_review(session, store, customer, f"review:{review.id}")
    log.info("reviews.submitted", extra={"store_id": store.id, "review_id": review.id, "status": review.status})
    return review


def _alert_merchant(session: Session, store: Store, review: Review, order_name: str | None, now: datetime) -> None:
    """A support message of its own kind (app/support): kept for the merchant, e-mailed when there is an address."""
    alert = ShopperMessage(
        kind=LOW_RATING,
        source_key=f"review:{review.id}",
        body=(review.body or review.title or "")[:280] or None,
        customer_id=review.customer_id,
        order_platform_id=review.order_platform_id,
        order_name=order_name,
        ref=f"review:{review.id}",
        rating=review.rating,
        product_title=review.product_title or review.product_id,
        locale=review.locale,
    )
    record(session, store, alert, now)


def moderate(review: Review, action: str, now: datetime) -> None:
    """Admin: publish or reject. A change of what is published queues the product's write-back."""
    was_published = review.status == PUBLISHED
    if action == "publish":
        review.status, review.published_at = PUBLISHED, review.published_at or now
    elif action == "reject":
        review.status = REJECTED
    else:
        raise ValueError(action)
    if was_published != (review.status == PUBLISHED):
        _queue_publication(review, now)


def reply(review: Review, text: str, now: datetime) -> None:
    review.merchant_reply, review.replied_at = text, now
    if review.status == PUBLISHED:
        _queue_publication(review, now)


def _queue_publication(review: Review, now: datetime) -> None:
    session = object_session(review)
    if session is not None:
        mark_dirty(session, review.store_id, review.product_id, now)


def as_public(review: Review) -> dict[str, Any]:
    """What a storefront may show: no customer id, no order id."""
    return {
        "id": review.id,
        "product_id": review.product_id,
        "rating": review.rating,
        "title": review.title,
        "body": review.body,
        "display_name": review.display_name,
        "verified": review.verified,
        "photos": [p["key"] for p in review.photos or []],
        "merchant_reply": review.merchant_reply,
        "published_at": review.published_at.isoformat() if review.published_at else None,
    }


def as_admin(review: Review) -> dict[str, Any]:
    return {
        **as_public(review),
        "status": review.status,
        "moderation_reason": review.moderation_reason,
        "order_platform_id": review.order_platform_id,
        "customer_id": review.customer_id,
        "created_at": review.created_at.isoformat() if review.created_at else None,
    }
