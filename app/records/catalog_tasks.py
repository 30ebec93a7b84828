"""Fetch the products a review e-mail shows (title, image, link) before the message is built.

Called by the review request job (app/reviews/tasks.py) ahead of `send_request`: the one place on that path
allowed to call the store. Only products missing from the cache or older than CATALOG_TTL_DAYS are asked
for, in batches (Shopify 250 ids per `nodes` call, WooCommerce 100 per `GET /products?include=`). No database
transaction is open during the call. A store that cannot answer (throttled, down, key revoked, scope missing,
uninstalled) never blocks the e-mail: it goes without images, and the next e-mail asks again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.platform.clients import NotConnected, shopify_client, woo_client
from app.records.catalog import order_product_ids, stale_product_ids, store_products
from app.records.models import Order
from app.reviews.models import ReviewRequest
from app.reviews.models.review import SCHEDULED, SENT
from app.stores.models import Store
from connectors.exceptions import ConnectorError

log = logging.getLogger(__name__)
LIVE = (SCHEDULED, SENT)  # a first send, or its reminder


def refresh_request_products(request_id: int, attempt: int | None, now: datetime) -> str:
    """fetched | cached | unavailable | skipped. Commits (or rolls back) what it read; run in an app context."""
    if not current_app.config.get("CATALOG_FETCH", True):
        return "skipped"
    request = db.session.get(ReviewRequest, request_id)
    if request is None or (attempt is not None and request.attempts != attempt) or request.status not in LIVE:
        db.session.rollback()
        return "skipped"  # send_request decides what happens to it; nothing worth fetching for
    store = db.session.get(Store, request.store_id)
    order = db.session.scalar(
        select(Order).where(Order.store_id == request.store_id, Order.platform_id == request.order_platform_id)
    )
    if store is None or store.status != "active" or order is None:
        db.session.rollback()
        return "skipped"
    ttl = timedelta(days=float(current_app.config.get("CATALOG_TTL_DAYS", 7)))
    store_id = store.id
    stale = stale_product_ids(db.session, store_id, order_product_ids(order), now, ttl)
    if not stale:
        db.session.rollback()
        return "cached"
    try:
        client = shopify_client(store) if store.platform == "shopify" else woo_client(store)
        db.session.commit()  # no transaction held while the store answers
        found = client.products(stale)
    except (ConnectorError, NotConnected) as exc:
        db.session.rollback()
        log.warning(
            "catalog.fetch_failed",
            extra={"store_id": store_id, "request_id": request_id, "error": type(exc).__name__, "count": len(stale)},
        )
        return "unavailable"
    store_products(db.session, store_id, stale, found, now)
    db.session.commit()
    log.info("catalog.fetched", extra={"store_id": store_id, "request_id": request_id, "count": len(stale)})
    return "fetched"
