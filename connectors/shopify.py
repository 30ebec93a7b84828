"""Shopify connector: webhook verification, the topic table and a delivery's identity.

Docs relied on:
- Verifying deliveries (base64 HMAC-SHA256 of the raw body with the app's client
  secret, header X-Shopify-Hmac-Sha256; duplicates share X-Shopify-Event-Id):
  https://shopify.dev/docs/apps/build/webhooks/verify-deliveries
  https://shopify.dev/docs/apps/build/webhooks/ignore-duplicates
- Payload shapes per topic (REST resource JSON): https://shopify.dev/docs/api/webhooks; the order, customer,
  refund and fulfillment resources are parsed in connectors/shopify_snapshots.py
- Mandatory compliance topics:
  https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance

Write-backs (Admin GraphQL through the ShopifyAPI package) arrive with the
loyalty and reviews features; this module only reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from . import parsing as p
from .base import MAX_KEY_LENGTH, Connector, WebhookMeta, body_digest
from .events import (
    AppUninstalled,
    BulkOperationFinished,
    ComplianceRequest,
    CustomerChanged,
    Event,
    FulfillmentChanged,
    OrderChanged,
    RefundCreated,
    ShipmentEvent,
)
from .exceptions import MalformedPayload
from .parsing import JSONObject
from .shopify_snapshots import customer_snapshot, fulfillment_snapshot, order_snapshot, refund_snapshot

COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


class ShopifyConnector(Connector):
    platform = "shopify"
    signature_header = "X-Shopify-Hmac-Sha256"
    topics: ClassVar[Mapping[str, str]] = {
        "orders/create": "parse_order",
        "orders/paid": "parse_order",
        "orders/updated": "parse_order",
        "orders/cancelled": "parse_order",
        "refunds/create": "parse_refund_topic",
        "fulfillments/create": "parse_fulfillment_topic",
        "fulfillments/update": "parse_fulfillment_topic",
        "fulfillment_events/create": "parse_fulfillment_event",
        "customers/create": "parse_customer_topic",
        "customers/update": "parse_customer_topic",
        "app/uninstalled": "parse_uninstalled",
        # https://shopify.dev/docs/api/usage/bulk-operations/queries (subscribe to bulk_operations/finish):
        # {"admin_graphql_api_id": "gid://shopify/BulkOperation/1", "status": "completed", ...}
        "bulk_operations/finish": "parse_bulk_finish",
        **{topic: "parse_compliance" for topic in COMPLIANCE_TOPICS},
    }

    def webhook_meta(self, headers: Mapping[str, str]) -> WebhookMeta:
        return WebhookMeta(
            topic=(headers.get("X-Shopify-Topic") or "").strip(),
            source=(headers.get("X-Shopify-Shop-Domain") or "").strip().lower(),
            # Event-Id names the event and is the same on every retry; older
            # deliveries only carry Webhook-Id, which is also stable per retry.
            delivery_id=headers.get("X-Shopify-Event-Id") or headers.get("X-Shopify-Webhook-Id"),
        )

    def dedupe_key(self, meta: WebhookMeta, payload: JSONObject, body: bytes) -> str:
        # One event can fan out to several topics (orders/paid and orders/updated),
        # each a delivery we must process, so the topic is part of the key.
        identity = meta.delivery_id.strip() if meta.delivery_id else body_digest(body)
        return f"{meta.topic}|{identity}"[:MAX_KEY_LENGTH]

    # -- parsers ------------------------------------------------------------

    def parse_order(self, payload: Any, topic: str) -> list[Event]:
        return [OrderChanged(order_snapshot(p.obj(payload)))]

    def parse_refund_topic(self, payload: Any, topic: str) -> list[Event]:
        data = p.obj(payload)
        return [RefundCreated(refund_snapshot(data, p.platform_id(data.get("order_id"), "order_id")))]

    def parse_fulfillment_topic(self, payload: Any, topic: str) -> list[Event]:
        data = p.obj(payload)
        return [FulfillmentChanged(fulfillment_snapshot(data, p.platform_id(data.get("order_id"), "order_id")))]

    def parse_fulfillment_event(self, payload: Any, topic: str) -> list[Event]:
        data = p.obj(payload)
        happened = p.timestamp(data.get("happened_at"), "happened_at") or p.required_timestamp(
            data.get("created_at"), "created_at"
        )
        return [
            ShipmentEvent(
                platform_id=p.platform_id(data.get("id")),
                order_id=p.platform_id(data.get("order_id"), "order_id"),
                fulfillment_id=p.platform_id(data.get("fulfillment_id"), "fulfillment_id"),
                status=p.text(data.get("status"), 32) or "unknown",
                happened_at=happened,
                estimated_delivery_at=p.timestamp(data.get("estimated_delivery_at"), "estimated_delivery_at"),
            )
        ]

    def parse_customer_topic(self, payload: Any, topic: str) -> list[Event]:
        return [CustomerChanged(customer_snapshot(p.obj(payload)))]

    def parse_uninstalled(self, payload: Any, topic: str) -> list[Event]:
        return [AppUninstalled()]

    def parse_bulk_finish(self, payload: Any, topic: str) -> list[Event]:
        data = p.obj(payload)
        operation = p.text(data.get("admin_graphql_api_id"), 128)
        if not operation:
            raise MalformedPayload("admin_graphql_api_id: missing")
        return [BulkOperationFinished(operation_id=operation, status=p.text(data.get("status"), 32) or "")]

    def parse_compliance(self, payload: Any, topic: str) -> list[Event]:
        data = p.obj(payload)
        return [ComplianceRequest(topic=topic, payload=data)]
