"""What other features use of reviews besides its __init__ (init_app, photo_storage): one import point (.importlinter's
public_api contract).

- order_review_url(store_id, order_platform_id, locale): the signed link to the order's review page (what the
  parcel card's QR code holds, app/inserts); valid for reviews/links.CARD_TTL_DAYS.
- reviewable_items(session, store, order, locale) -> [{"product_id", "title", "review_url"}]: review_url is the
  order's neutral review page (/r/order/<token>, reviews/order_page.py), where the shopper picks their own stars
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.records.models import Order
from app.reviews.links import order_review_url
from app.reviews.models import Review, ReviewRequest
from app.reviews.models.review import REMINDED, REVIEWED, SENT
from app.reviews.service import refusal
from app.stores.models import Store

__all__ = ["order_review_url", "reviewable_items"]


def reviewable_items(session: Session, store: Store, order: Order, locale: str) -> list[dict[str, Any]]:
    """The order's delivered products not reviewed yet, each with the link to the order's review page: only once
    the order is delivered and its review request went out (the page waits for a request still scheduled).
    The link is the neutral page, never a star link: a rating chosen for the shopper (five stars) would nudge
    every answer up; on the page each product shows its five stars, none chosen."""
    if order.delivered_at is None or order.deleted_at is not None:
        return []
    request = session.scalar(
        select(ReviewRequest)
        .where(
            ReviewRequest.store_id == store.id,
            ReviewRequest.order_platform_id == order.platform_id,
            ReviewRequest.status.in_((SENT, REMINDED, REVIEWED)),
        )
        .order_by(ReviewRequest.id)
        .limit(1)
    )
    if request is None:
        return []
    reviewed = set(
        session.scalars(
            select(Review.product_id).where(Review.store_id == store.id, Review.order_platform_id == order.platform_id)
        )
    )
    url = order_review_url(store.id, order.platform_id, locale)
    items: dict[str, dict[str, Any]] = {}
    for line in order.line_items or []:
        product_id = line.get("product_id")
        if not product_id or product_id in reviewed or product_id in items:
            continue
        if refusal(request, order, str(product_id)) is not None:
            continue
        items[product_id] = {
            "product_id": str(product_id),
            "title": line.get("title") or "",
            "review_url": url,
        }
    return list(items.values())
