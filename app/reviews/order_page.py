"""GET /r/order/<token>: the order's review page, where the QR code on the parcel's printed card leads
(app/inserts). It lists what the order holds with the same one-click stars as the review request e-mail.

The card is printed when the parcel is packed, before the review request exists (requests are timed to
delivery, reviews/requests.py): until then the page says the review opens once the parcel has arrived instead of
taking a review for something not received yet. A product already reviewed shows "reviewed", not stars. A GET
stores nothing (phones' QR scanners and link previews open it too).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.records.catalog import order_product_ids, products_by_id
from app.records.models import Order
from app.reviews import bp
from app.reviews.form import page
from app.reviews.links import read_order_token
from app.reviews.models import ReviewRequest
from app.reviews.models.review import CANCELLED, Review
from app.reviews.requests import _products, _stops
from app.stores.models import Store


def _open_request(store: Store, order: Order) -> ReviewRequest | None:
    stmt = select(ReviewRequest).where(
        ReviewRequest.store_id == store.id,
        ReviewRequest.order_platform_id == order.platform_id,
        ReviewRequest.status != CANCELLED,
    )
    return db.session.scalars(stmt.order_by(ReviewRequest.id)).first()


def _reviewed(store: Store, order: Order) -> set[str]:
    stmt = select(Review.product_id).where(Review.store_id == store.id, Review.order_platform_id == order.platform_id)
    return set(db.session.scalars(stmt))


@bp.route("/r/order/<token>", methods=["GET"])
def order_review_page(token: str):
    link = read_order_token(token)  # LinkInvalid 400, LinkExpired 410: form.py's error handler
    store = db.session.get(Store, link.store_id)
    order = None
    if store is not None:
        stmt = select(Order).where(Order.store_id == store.id, Order.platform_id == link.order_platform_id)
        order = db.session.scalar(stmt)
    if store is None or order is None:
        return page("review_order.html", link.locale, 404, store, state="invalid", products=[])
    if _stops(order) is not None:
        return page("review_order.html", link.locale, 410, store, state="closed", products=[])
    request_row = _open_request(store, order)
    if request_row is None:
        return page("review_order.html", link.locale, 200, store, state="waiting", products=[])
    catalogue = products_by_id(db.session, store.id, order_product_ids(order))
    done = _reviewed(store, order)
    products: list[dict[str, Any]] = []
    ids = [pid for pid in dict.fromkeys(str(i.get("product_id") or "") for i in order.line_items or []) if pid]
    for product_id, shown in zip(ids, _products(order, request_row, link.locale, catalogue), strict=True):
        products.append({**shown, "reviewed": product_id in done})
    state = "reviewed" if products and all(p["reviewed"] for p in products) else "open"
    return page("review_order.html", link.locale, 200, store, state=state, products=products)
