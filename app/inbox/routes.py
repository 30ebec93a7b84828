"""The two webhook endpoints. Status codes are what the platforms act on:

- 200: stored (or a duplicate, a ping, or a topic we ignore): never retried.
- 401: bad or missing signature, or an unknown WooCommerce source (we hold no
  secret to check it with). 404: a correctly signed Shopify webhook for a shop
  that never installed us.
- 400: malformed JSON, missing headers or an X-WC-Webhook-Source that is no URL.
  413: body over WEBHOOK_MAX_BYTES.
- 503: the database is down; Shopify retries (up to 8 times over 4 hours).

The decisions are plain functions of (headers, body) returning an Answer, so
the same code serves the Flask views here and the WSGI door in door.py, which
answers POSTs to these two paths before Flask builds a request (the hot path).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import NamedTuple, cast

import orjson
from flask import Response, current_app, request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.inbox import bp
from app.inbox.ingest import kick_soon, record_delivery
from app.platform.metrics import webhook_answered
from app.stores.cache import StoreRef, cached_store
from connectors import get_connector
from connectors.base import Connector, WebhookMeta
from connectors.exceptions import InvalidSignature
from connectors.woocommerce import is_ping

log = logging.getLogger(__name__)

#: What a database that cannot answer raises: a driver error (wrapped by SQLAlchemy, app/database.py), or the
#: pool's wait for a free connection running out while the server is down. Either is a 503, never a 500.
DATABASE_DOWN = (DBAPIError, PoolTimeout)


class Answer(NamedTuple):
    status: int
    body: bytes
    retry_after: bool = False  # a 503: ask the platform to come back in a few seconds


def _answer(status: int, message: str) -> Answer:
    return Answer(status, json.dumps({"status": message}).encode())


# A handful of fixed answers, encoded once rather than on every request.
ACCEPTED = _answer(200, "accepted")
DUPLICATE = _answer(200, "duplicate")
IGNORED = _answer(200, "ignored")
PING = Answer(200, b"")  # WooCommerce wants exactly 200; the body does not matter
BAD_SIGNATURE = _answer(401, "invalid signature")
UNKNOWN_STORE = _answer(401, "unknown store")
UNKNOWN_SHOP = _answer(404, "unknown shop")
MISSING_SHOPIFY_HEADERS = _answer(400, "missing X-Shopify-Topic or X-Shopify-Shop-Domain")
MISSING_WOO_TOPIC = _answer(400, "missing X-WC-Webhook-Topic")
MALFORMED_SOURCE = _answer(400, "malformed X-WC-Webhook-Source")
MALFORMED = _answer(400, "malformed JSON")
NOT_AN_OBJECT = _answer(400, "expected a JSON object")
UNAVAILABLE = Answer(503, _answer(503, "unavailable").body, retry_after=True)
#: Every answer's name for the metrics (ppe_webhooks_total's `answer`); the door adds its own three.
ANSWER_NAMES = {
    ACCEPTED: "accepted",
    DUPLICATE: "duplicate",
    IGNORED: "ignored",
    PING: "ping",
    BAD_SIGNATURE: "bad_signature",
    UNKNOWN_STORE: "unknown_store",
    UNKNOWN_SHOP: "unknown_shop",
    MISSING_SHOPIFY_HEADERS: "missing_headers",
    MISSING_WOO_TOPIC: "missing_headers",
    MALFORMED_SOURCE: "malformed_source",
    MALFORMED: "malformed_json",
    NOT_AN_OBJECT: "not_an_object",
    UNAVAILABLE: "unavailable",
}
_TOPIC_HEADERS = {"shopify": "X-Shopify-Topic", "woocommerce": "X-WC-Webhook-Topic"}


def count_answer(platform: str, headers: Mapping[str, str], answer: Answer) -> None:
    """One increment of ppe_webhooks_total. The topic header is the sender's to choose: a topic we do not
    support is counted as "other", so no request can add a series."""
    topic = (headers.get(_TOPIC_HEADERS[platform]) or "").strip()
    if not get_connector(platform).supports(topic):
        topic = "other"
    webhook_answered(platform, topic, ANSWER_NAMES.get(answer) or str(answer.status))


def shopify_answer(headers: Mapping[str, str], body: bytes) -> Answer:
    """Verify, store and kick one Shopify delivery (needs an app context)."""
    connector = get_connector("shopify")
    try:
        # The app's client secret signs every shop's webhooks, so check it first:
        # an unsigned request learns nothing, not even whether a shop exists.
        connector.verify_webhook(body, headers, current_app.config["SHOPIFY_API_SECRET"].encode())
    except InvalidSignature:
        log.info("webhook.bad_signature", extra={"platform": "shopify"})
        return BAD_SIGNATURE
    meta = connector.webhook_meta(headers)
    if not meta.topic or not meta.source:
        return MISSING_SHOPIFY_HEADERS
    try:
        store = cached_store("shopify", meta.source)
    except DATABASE_DOWN:
        return UNAVAILABLE
    if store is None:
        log.info("webhook.unknown_store", extra={"platform": "shopify"})
        return UNKNOWN_SHOP
    return _accept(connector, store, meta, body)


def woocommerce_answer(headers: Mapping[str, str], body: bytes) -> Answer:
    """Verify, store and kick one WooCommerce delivery (needs an app context)."""
    connector = get_connector("woocommerce")
    if is_ping(body, headers):
        # Sent unsigned when a webhook is created or re-activated; WooCommerce
        # keeps pinging until it gets exactly 200.
        return PING
    try:
        meta = connector.webhook_meta(headers)
    except ValueError:
        # The unsigned source names the secret that checks the signature, so it is read first; one urlsplit
        # cannot parse (a port out of range or not a number, a broken IPv6 literal) names no store: 400.
        log.info("webhook.malformed_source", extra={"platform": "woocommerce"})
        return MALFORMED_SOURCE
    if not meta.source:
        return UNKNOWN_STORE
    try:
        store = cached_store("woocommerce", meta.source)
    except DATABASE_DOWN:
        return UNAVAILABLE
    if store is None or store.webhook_secret is None:
        log.info("webhook.unknown_store", extra={"platform": "woocommerce"})
        return UNKNOWN_STORE
    try:
        connector.verify_webhook(body, headers, store.webhook_secret)
    except InvalidSignature:
        log.info("webhook.bad_signature", extra={"platform": "woocommerce", "store_id": store.id})
        return BAD_SIGNATURE
    if not meta.topic:
        return MISSING_WOO_TOPIC
    return _accept(connector, store, meta, body)


def _accept(connector: Connector, store: StoreRef, meta: WebhookMeta, body: bytes) -> Answer:
    try:
        # orjson: a strict RFC 8259 parse about four times faster than json.loads on a 13 KB
        # order, and this runs on every webhook. Integers past 64 bits are refused (400): no
        # platform id or amount is that large, and a float id would be refused later anyway.
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return MALFORMED
    if not isinstance(payload, dict):
        return NOT_AN_OBJECT
    if not connector.supports(meta.topic):
        log.info("webhook.unsupported_topic", extra={"platform": connector.platform, "topic": meta.topic})
        return IGNORED
    key = connector.dedupe_key(meta, payload, body)
    try:
        delivery_id = record_delivery(store.id, connector.platform, meta.topic, key, body)
    except DATABASE_DOWN:
        log.error("webhook.store_failed", extra={"platform": connector.platform, "store_id": store.id})
        return UNAVAILABLE
    if delivery_id is None:
        return DUPLICATE
    kick_soon()
    return ACCEPTED


def _response(answer: Answer) -> Response:
    response = Response(answer.body, status=answer.status, mimetype="application/json" if answer.body else None)
    if answer.retry_after:
        response.headers["Retry-After"] = "5"
    return response


# The views define the routes (a GET gets 405 from Flask) and answer whatever reaches
# Flask without the door in front (tests/inbox/test_webhook_door.py compares the two).
# werkzeug's Headers is not typed a Mapping (it iterates (name, value) pairs), but it has the case-insensitive
# get() the answers and connectors read: cast where it is handed over.
@bp.post("/shopify")
def shopify() -> Response:
    headers = cast("Mapping[str, str]", request.headers)
    answer = shopify_answer(headers, request.get_data(cache=False))
    count_answer("shopify", headers, answer)
    return _response(answer)


@bp.post("/woocommerce")
def woocommerce() -> Response:
    headers = cast("Mapping[str, str]", request.headers)
    answer = woocommerce_answer(headers, request.get_data(cache=False))
    count_answer("woocommerce", headers, answer)
    return _response(answer)
