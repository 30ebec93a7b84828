"""WooCommerce connector: webhook verification, the topic table and a delivery's identity.

Docs and source relied on:
- Webhooks (topics, headers, the `webhook_id=N` ping on activation that needs
  an exact 200): https://woocommerce.github.io/woocommerce-rest-api-docs/#webhooks
  and includes/class-wc-webhook.php (X-WC-Webhook-Signature is base64
  HMAC-SHA256 of the raw body with the webhook's secret).
- The order and customer JSON a webhook carries is parsed in connectors/woocommerce_snapshots.py.

WooCommerce has no stable delivery id (X-WC-Webhook-Delivery-ID is new on every
attempt), so a delivery's identity is its topic, resource id and content (dedupe_key).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from . import parsing as p
from .base import MAX_KEY_LENGTH, Connector, WebhookMeta
from .events import CustomerChanged, Event, OrderChanged, OrderDeleted
from .parsing import JSONObject
from .woocommerce_snapshots import customer_snapshot, order_snapshot

_PING = re.compile(rb"^webhook_id=\d+$")


def is_ping(body: bytes, headers: Mapping[str, str]) -> bool:
    """The unsigned activation ping: body `webhook_id=N`, no topic, no signature."""
    return bool(_PING.match(body.strip())) and not headers.get("X-WC-Webhook-Signature")


def site_key(url: str) -> str:
    """Normalise a site URL to host[:port][/path], the store's lookup key.

    X-WC-Webhook-Source is home_url('/'), so scheme and trailing slash vary
    with the store's settings; a store in a sub-directory keeps its path.
    """
    raw = url.strip()
    if "://" not in raw:
        raw = "https://" + raw
    parts = urlsplit(raw)
    host = (parts.hostname or "").lower()
    if not host:
        return ""
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    path = parts.path.rstrip("/")
    return f"{host}{port}{path}"


class WooCommerceConnector(Connector):
    platform = "woocommerce"
    signature_header = "X-WC-Webhook-Signature"
    topics: ClassVar[Mapping[str, str]] = {
        "order.created": "parse_order",
        "order.updated": "parse_order",
        "order.restored": "parse_order",
        "order.deleted": "parse_order_deleted",
        "customer.created": "parse_customer",
        "customer.updated": "parse_customer",
    }

    def webhook_meta(self, headers: Mapping[str, str]) -> WebhookMeta:
        return WebhookMeta(
            topic=(headers.get("X-WC-Webhook-Topic") or "").strip(),
            source=site_key(headers.get("X-WC-Webhook-Source") or ""),
            delivery_id=None,
        )

    def dedupe_key(self, meta: WebhookMeta, payload: JSONObject, body: bytes) -> str:
        return dedupe_key(meta.topic, payload)

    # -- parsers ------------------------------------------------------------

    def parse_order(self, payload: Any, topic: str) -> list[Event]:
        return [OrderChanged(order_snapshot(p.obj(payload)), restored=topic == "order.restored")]

    def parse_order_deleted(self, payload: Any, topic: str) -> list[Event]:
        return [OrderDeleted(p.platform_id(p.obj(payload).get("id"), "order.id"))]

    def parse_customer(self, payload: Any, topic: str) -> list[Event]:
        return [CustomerChanged(customer_snapshot(p.obj(payload)))]


#: Fields of a REST answer that a webhook payload lacks (links, not content): left out of the content hash so an
#: order read back by reconciliation (app/inbox/woo_reconcile.py) matches the webhook that brought the same content.
_NOT_CONTENT = frozenset({"_links"})


def dedupe_key(topic: str, payload: JSONObject) -> str:
    """`topic|id|sha256:<hash of the payload's canonical JSON>`: equal for every delivery of the same content.

    WooCommerce dates have one-second resolution, so id + date_modified_gmt + status cannot tell apart two changes
    made in the same second (two refunds of one order): the key hashes the whole content instead. The canonical
    form (keys sorted, compact, `_links` left out), not the body's bytes, because reconciliation has no webhook
    bytes: it re-serialises the REST answer, and must still recognise what a webhook already brought. A re-sent
    delivery (the same bytes) parses to the same object, so it still collapses, for one serialisation of an
    already parsed payload. The id shows only when it is a valid id, and the rest is a hex digest: the key never
    carries a NUL or anything else a text column refuses.
    """
    resource_id = payload.get("id")
    shown = p.platform_id(resource_id) if p.is_platform_id(resource_id) else "-"
    content = {k: v for k, v in payload.items() if k not in _NOT_CONTENT}
    return f"{topic}|{shown}|{p.content_digest(content)}"[:MAX_KEY_LENGTH]
