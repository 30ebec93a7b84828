"""A merchant's moderation of one review, done whole: the change, its audit row, the commit, the storefront's
cached answers dropped and the write-back to the store kicked. The admin API (admin.py) and the dashboard page
(dashboard_pages.py) both call these, so the two ways in publish back identically.

Who acted is whatever the surface put where app/admin/audit.current_actor reads it (the admin API's bearer
token, the dashboard's g.audit_actor). A review of another store is None from `store_review`, never touched.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.admin import audit
from app.platform.sql import get_in_store
from app.reviews.models.review import Review
from app.reviews.publishing_tasks import kick_publishing
from app.reviews.reading import invalidate
from app.reviews.service import moderate, reply
from app.stores.models import Store

MAX_REPLY = 4000
ACTIONS = ("publish", "reject")


def store_review(session: Session, store: Store, review_id: int) -> Review | None:
    return get_in_store(session, Review, review_id, store.id)


def clean_reply(text: object) -> str | None:
    """The reply as kept (trimmed), or None when it is not 1-4000 characters of text."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_REPLY:
        return None
    return text.strip()


def _published_back(session: Session, review: Review) -> None:
    session.commit()
    invalidate(review.store_id, review.product_id)
    kick_publishing(review.store_id)


def moderate_review(session: Session, store: Store, review: Review, action: str, now: datetime) -> None:
    """Publish or reject (ValueError for another action); audited as review.<action> with the status change."""
    before = review.status
    moderate(review, action, now)
    audit.record(session, store, f"review.{action}", f"review:{review.id}", {"status": [before, review.status]})
    _published_back(session, review)


def reply_to_review(session: Session, store: Store, review: Review, text: str, now: datetime) -> None:
    """The merchant's reply (already clean_reply'd), shown under the review and written back when published."""
    before = len(review.merchant_reply) if review.merchant_reply else None
    reply(review, text, now)
    diff = {"reply_chars": [before, len(text)]}  # lengths, not words: a reply may name the shopper
    audit.record(session, store, "review.reply", f"review:{review.id}", diff)
    _published_back(session, review)
