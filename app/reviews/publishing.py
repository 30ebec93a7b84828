"""Which products' reviews must be written back to the store, and what to write (no HTTP here).

The outbox is `ReviewPublication` (app/reviews/models/publication.py), one row per (store, product).
`mark_dirty` is called in the transaction that publishes, unpublishes or replies to a review; the job in
app/reviews/publishing_tasks.py drains due rows per store. What a row means per platform:
- Shopify: the product's `reviews.rating` / `reviews.rating_count` metafields, recomputed from every published
  review of the product (never incremented), deleted when none is left.
- WooCommerce: every published review of the product not yet at the store is created there once
  (`Review.platform_review_id`). A review rejected after it reached the store is NOT deleted there: the
  WooCommerce REST API has no "unpublish" of ours to undo without deleting the merchant's comment history,
  so the row is parked `failed` with `last_error="rejected_on_platform:<ids>"` for the merchant to remove it in
  WordPress (Products > Reviews). Replies are not sent: WooCommerce REST v3 product reviews have no reply field.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.reviews.models.publication import DONE, FAILED, PENDING, STOPPED, ReviewPublication
from app.reviews.models.review import PUBLISHED, Review
from app.stores.models import Store
from app.stores.uninstall import register_uninstall_hook

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    """A due row as the job read it: `version` decides whether a success may mark it done."""

    id: int
    store_id: int  # every update names it: the row is the store's (docs/deployment.md, Citus)
    product_id: str
    version: int
    attempts: int


def mark_dirty(session: Session, store_id: int, product_id: str, now: datetime) -> ReviewPublication:
    """The product's reviews changed: (re)queue its write-back now. Caller commits."""
    row = session.scalar(
        select(ReviewPublication).where(
            ReviewPublication.store_id == store_id, ReviewPublication.product_id == product_id
        )
    )
    if row is None:
        try:
            with session.begin_nested():  # a concurrent first mark inserts the same row: take theirs
                row = ReviewPublication(store_id=store_id, product_id=product_id, due_at=now, version=1, attempts=0)
                session.add(row)
                session.flush()
            return row
        except IntegrityError:
            row = session.scalars(
                select(ReviewPublication).where(
                    ReviewPublication.store_id == store_id, ReviewPublication.product_id == product_id
                )
            ).one()
    row.status, row.due_at, row.attempts, row.last_error = PENDING, now, 0, None
    row.version = (row.version or 0) + 1
    return row


def due_store_ids(session: Session, now: datetime) -> list[int]:
    stmt = (
        select(ReviewPublication.store_id)
        .join(Store, Store.id == ReviewPublication.store_id)
        .where(ReviewPublication.status == PENDING, ReviewPublication.due_at <= now, Store.status == "active")
        .distinct()
    )
    return list(session.scalars(stmt))


def due_rows(session: Session, store_id: int, now: datetime, limit: int) -> list[Claimed]:
    stmt = (
        select(ReviewPublication)
        .where(
            ReviewPublication.store_id == store_id,
            ReviewPublication.status == PENDING,
            ReviewPublication.due_at <= now,
        )
        .order_by(ReviewPublication.due_at, ReviewPublication.id)
        .limit(limit)
    )
    return [Claimed(r.id, r.store_id, r.product_id, r.version, r.attempts) for r in session.scalars(stmt)]


def product_rating(session: Session, store_id: int, product_id: str) -> tuple[Decimal, int]:
    """(average as an exact Decimal, count) over the product's published reviews; (0, 0) when none."""
    count, total = session.execute(
        select(func.count(Review.id), func.coalesce(func.sum(Review.rating), 0)).where(
            Review.store_id == store_id, Review.product_id == product_id, Review.status == PUBLISHED
        )
    ).one()
    if not count:
        return Decimal(0), 0
    return Decimal(int(total)) / Decimal(int(count)), int(count)


def unsent_reviews(session: Session, store_id: int, product_id: str) -> list[Review]:
    """Published reviews of the product not yet created at the store (WooCommerce), oldest first."""
    stmt = select(Review).where(
        Review.store_id == store_id,
        Review.product_id == product_id,
        Review.status == PUBLISHED,
        Review.platform_review_id.is_(None),
    )
    return list(session.scalars(stmt.order_by(Review.id)))


def withdrawn_on_platform(session: Session, store_id: int, product_id: str) -> list[str]:
    """Platform ids of reviews we created at the store and the merchant rejected since."""
    stmt = select(Review.platform_review_id).where(
        Review.store_id == store_id,
        Review.product_id == product_id,
        Review.status != PUBLISHED,
        Review.platform_review_id.is_not(None),
    )
    return [str(pid) for pid in session.scalars(stmt.order_by(Review.id))]


def succeeded(session: Session, claimed: Claimed, now: datetime) -> bool:
    """Mark done unless the product changed meanwhile (then it stays pending, due now). True when done."""
    result = session.execute(
        update(ReviewPublication)
        .where(_claimed(claimed), ReviewPublication.version == claimed.version)
        .values(status=DONE, attempts=0, last_error=None, published_at=now, due_at=None)
    )
    return cast("CursorResult[Any]", result).rowcount == 1  # DML: a CursorResult; execute() is typed Result


def retry_later(
    session: Session, claimed: Claimed, due_at: datetime, error: str | None, *, attempt: bool = True
) -> None:
    """Try again at due_at; attempt=False when the row was not tried (the store throttled another row)."""
    values: dict[str, Any] = {"due_at": due_at}
    if attempt:
        values.update(attempts=ReviewPublication.attempts + 1, last_error=error)
    session.execute(
        update(ReviewPublication).where(_claimed(claimed), ReviewPublication.status == PENDING).values(**values)
    )


def failed(session: Session, claimed: Claimed, error: str) -> None:
    """Permanent: parked as failed with the reason (a new change of the product queues it again)."""
    session.execute(
        update(ReviewPublication)
        .where(_claimed(claimed), ReviewPublication.version == claimed.version)
        .values(status=FAILED, attempts=ReviewPublication.attempts + 1, last_error=error[:500], due_at=None)
    )


def _claimed(claimed: Claimed) -> ColumnElement[bool]:
    return and_(ReviewPublication.store_id == claimed.store_id, ReviewPublication.id == claimed.id)


def visible_rows(
    session: Session, store_id: int, statuses: tuple[str, ...] = (PENDING, FAILED)
) -> list[dict[str, Any]]:
    """What the admin API shows: rows waiting or failed, oldest change first."""
    stmt = select(ReviewPublication).where(
        ReviewPublication.store_id == store_id, ReviewPublication.status.in_(statuses)
    )
    return [
        {
            "product_id": r.product_id,
            "status": r.status,
            "attempts": r.attempts,
            "last_error": r.last_error,
            "due_at": r.due_at.isoformat() if r.due_at else None,
            "published_at": r.published_at.isoformat() if r.published_at else None,
            "updated_at": r.updated_at.isoformat() if r.updated_at else None,
        }
        for r in session.scalars(stmt.order_by(ReviewPublication.updated_at, ReviewPublication.id).limit(500))
    ]


@register_uninstall_hook
def stop_publishing(session: Session, store: Store) -> None:
    """Uninstall: nothing more goes to the store; a change after a reinstall queues its product again."""
    result = session.execute(
        update(ReviewPublication)
        .where(ReviewPublication.store_id == store.id, ReviewPublication.status == PENDING)
        .values(status=STOPPED, due_at=None)
    )
    stopped = cast("CursorResult[Any]", result).rowcount  # DML: a CursorResult; execute() is typed Result
    log.info("reviews.publish_stopped", extra={"store_id": store.id, "rows": stopped})
