"""What the review form shows besides the form: the product (its title and picture) and the review a link
already led to.

The picture is the one the review e-mail showed (reviews/requests._products): the line item's own image
(WooCommerce's variant) first, else the product cache's (records/catalog.py, filled by the send job), https
only. The page reads the cache and never fetches: a store that did not answer leaves the page without a picture.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.records.catalog import products_by_id
from app.records.models import Order
from app.reviews.models import Review, ReviewRequest
from app.reviews.service import product_title


@dataclass(frozen=True)
class ProductShown:
    title: str
    image: str  # https, or "" for none


def _https(value: object) -> str:
    return value if isinstance(value, str) and value.startswith("https://") and len(value) <= 2000 else ""


def product_shown(session: Session, store_id: int, order: Order | None, product_id: str) -> ProductShown:
    item_title = (product_title(order, product_id) if order is not None else None) or ""
    item_image = ""
    for item in (order.line_items or []) if order is not None else []:
        if item.get("product_id") == product_id:
            item_image = _https(item.get("image_url"))
            break
    cached = products_by_id(session, store_id, [product_id]).get(product_id)
    known = cached if cached is not None and cached.found else None
    return ProductShown(
        title=(known.title if known and known.title else None) or item_title,
        image=item_image or (_https(known.image_url) if known else ""),
    )


def existing_review(session: Session, request: ReviewRequest, product_id: str) -> Review | None:
    """The review this order already has for the product (one per store, order and product)."""
    return session.scalar(
        select(Review).where(
            Review.store_id == request.store_id,
            Review.order_platform_id == request.order_platform_id,
            Review.product_id == product_id,
        )
    )
