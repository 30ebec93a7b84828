"""WooCommerce order reconciliation: the orders a store modified since our watermark, appended to the inbox.

WooCommerce never retries a failed delivery (includes/class-wc-webhook.php), so the upkeep job
(app/inbox/woo_upkeep.py, maintain_woo_store) reads the orders modified since the last watermark
(https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-orders). Each order goes into the inbox as an
`order.updated` delivery with the connector's dedupe key, so what a webhook already brought is recognised.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.inbox.ingest import kick_processing, record_delivery
from app.inbox.models import WebhookDelivery
from app.platform.types import utcnow
from app.stores.models import Store
from app.stores.models.woocommerce import WooStoreState
from connectors import WebhookMeta, get_connector
from connectors.exceptions import ConnectorError
from connectors.parsing import timestamp
from connectors.woocommerce_admin import WooAdminClient

log = logging.getLogger(__name__)

_ORDER_TOPICS = ("order.updated", "order.created", "order.restored")


def _already_delivered(store_id: int, order: dict[str, Any], body: bytes) -> bool:
    """Did a webhook (created/updated/restored) already bring this exact version of the order?"""
    connector = get_connector("woocommerce")
    keys = [connector.dedupe_key(WebhookMeta(t, "", None), order, body) for t in _ORDER_TOPICS]
    with db.engine.connect() as conn:
        found = conn.execute(
            select(WebhookDelivery.id).where(WebhookDelivery.store_id == store_id, WebhookDelivery.dedupe_key.in_(keys))
        ).first()
    return found is not None


def _modified(order: dict[str, Any]) -> datetime | None:
    try:
        return timestamp(order.get("date_modified_gmt"), "date_modified_gmt", assume_utc=True)
    except ConnectorError:
        return None


def reconcile_orders(store: Store, state: WooStoreState, client: WooAdminClient) -> dict[str, int]:
    """Append orders modified since the watermark to the inbox; move the watermark when the window was read whole."""
    config = current_app.config
    overlap = timedelta(seconds=int(config.get("WOO_RECONCILE_OVERLAP_SECONDS", 600)))
    max_pages = int(config.get("WOO_RECONCILE_MAX_PAGES", 50))
    started = utcnow()
    since = (state.reconcile_watermark or started) - overlap
    store_id, domain = store.id, store.domain
    db.session.commit()
    connector = get_connector("woocommerce")
    newest, counts, pages = state.reconcile_watermark, {"new": 0, "known": 0}, 0
    for page in client.orders_modified_after(since, max_pages=max_pages):
        pages += 1
        for order in page:
            if not isinstance(order, dict) or order.get("id") is None:
                continue
            body = json.dumps(order, ensure_ascii=False, separators=(",", ":")).encode()
            key = connector.dedupe_key(WebhookMeta("order.updated", domain, None), order, body)
            if (
                _already_delivered(store_id, order, body)
                or record_delivery(store_id, "woocommerce", "order.updated", key, body) is None
            ):
                counts["known"] += 1
            else:
                counts["new"] += 1
            modified = _modified(order)
            if modified is not None and (newest is None or modified > newest):
                newest = modified
    if pages < max_pages:  # a truncated window is read again from the same watermark
        state.reconcile_watermark = newest or state.reconcile_watermark
    else:
        log.warning(
            "woo.reconcile_truncated",
            extra={"store_id": store_id, "pages": pages, "reason": "page cap reached; the window is read again"},
        )
    state.last_reconciled_at = started
    if counts["new"]:
        kick_processing()
    return counts
