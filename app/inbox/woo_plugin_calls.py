"""The WordPress plugin's signed calls that need the inbox: its status page and its Disconnect button.

Both are on the stores' plugin blueprint (app/stores/woo_plugin.py, which verifies the signature); they live
here because the last webhook received is an inbox row and disconnecting is the inbox's webhook upkeep undone
(woo_upkeep.disconnect_woo_store, also behind `flask woocommerce disconnect`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from flask import Response, request
from redis.exceptions import RedisError
from sqlalchemy import select

from app.extensions import db
from app.inbox.models import WebhookDelivery
from app.inbox.woo_upkeep import disconnect_woo_store
from app.platform.queue import get_queue
from app.stores.models.woocommerce import WooStoreState
from app.stores.woo_plugin import bp, verified_store

log = logging.getLogger(__name__)


def _answer(status: int, body: Mapping[str, object]) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


@bp.get("/status")
def status() -> Response:
    store = verified_store(request.headers, "GET", request.path, b"")
    if store is None:
        db.session.rollback()
        return _answer(401, {"status": "unauthenticated"})
    # The newest row by id (the primary key's order is arrival order), this store's only.
    last = db.session.scalar(
        select(WebhookDelivery.received_at)
        .where(WebhookDelivery.store_id == store.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(1)
    )
    state = db.session.get(WooStoreState, store.id)
    body = {
        "status": store.status,
        "site_key": store.domain,
        "webhooks": state.webhooks_status if state is not None else None,
        "last_webhook_at": last.isoformat() if last is not None else None,
    }
    db.session.rollback()
    return _answer(200, body)


@bp.post("/disconnect")
def disconnect() -> Response:
    """Queued: removing our webhooks calls the store back, which may be the very PHP process waiting here."""
    store = verified_store(request.headers, "POST", request.path, request.get_data())
    if store is None:
        db.session.rollback()
        return _answer(401, {"status": "unauthenticated"})
    store_id = store.id
    db.session.rollback()
    try:
        get_queue().enqueue(disconnect_woo_store, store_id, job_timeout=300, failure_ttl=7 * 86400)
    except RedisError:
        return _answer(503, {"status": "unavailable"})
    log.info("woo_plugin.disconnect_queued", extra={"store_id": store_id})
    return _answer(202, {"status": "disconnecting"})
