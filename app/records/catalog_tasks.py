"""Fetch products from the store into the product cache (title, image, link) that messages read.

`refresh_products(session, store, product_ids, now)` is the one place on a message's path allowed to call the store
for products: a job calls it before it builds the message (app/reviews/tasks.py for the review e-mails). Only
products missing from the cache or older than CATALOG_TTL_DAYS are asked for, in batches (Shopify 250 ids per
`nodes` call, WooCommerce 100 per `GET /products?include=`, connectors/catalog.py), through the store's client
(app/stores/clients.client_for). No database transaction is open during the call. A store that cannot answer
(throttled, down, key revoked, scope missing, uninstalled) never blocks the message: it goes without images, and
the next one asks again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from app.platform.logs import reason
from app.records.catalog import stale_product_ids, store_products
from app.stores.clients import NotConnected, client_for
from app.stores.models import Store
from connectors.exceptions import ConnectorError

log = logging.getLogger(__name__)


def refresh_products(
    session: Session,
    store: Store,
    product_ids: Iterable[str],
    now: datetime,
    *,
    log_extra: Mapping[str, Any] | None = None,
) -> str:
    """fetched | cached | unavailable. Commits (or rolls back) what it read; run in an app context.

    `log_extra`: what the caller's log lines carry besides the store (e.g. the review request's id).
    """
    extra = {"store_id": store.id, **(log_extra or {})}
    ttl = timedelta(days=float(current_app.config.get("CATALOG_TTL_DAYS", 7)))
    stale = stale_product_ids(session, store.id, product_ids, now, ttl)
    if not stale:
        session.rollback()
        return "cached"
    try:
        client = client_for(store)
        session.commit()  # no transaction held while the store answers
        found = client.products(stale)
    except (ConnectorError, NotConnected) as exc:
        session.rollback()
        why = {"error": type(exc).__name__, "reason": reason(exc)}
        log.warning("catalog.fetch_failed", extra={**extra, **why, "count": len(stale)})
        return "unavailable"
    store_products(session, extra["store_id"], stale, found, now)
    session.commit()
    log.info("catalog.fetched", extra={**extra, "count": len(stale)})
    return "fetched"
