"""Shop-specific webhook subscriptions: listing and removing the ones our app made through the Admin API.

Our topics are app-specific subscriptions declared in shopify.app.toml, which Shopify keeps for every shop the
app is installed on; Shopify recommends them, and a topic subscribed both ways is delivered twice. Older
installs also created a shop-specific subscription per topic (webhookSubscriptionCreate); the upgrade removes
them. `webhookSubscriptions` answers only the shop-specific subscriptions of the calling app, never the TOML's.

Docs relied on:
- App-specific vs shop-specific subscriptions: https://shopify.dev/docs/apps/build/webhooks/subscribe
- webhookSubscriptions ("not including app-scoped subscriptions configured via TOML files"):
  https://shopify.dev/docs/api/admin-graphql/2026-10/queries/webhookSubscriptions
- webhookSubscriptionDelete: https://shopify.dev/docs/api/admin-graphql/2026-10/mutations/webhookSubscriptionDelete
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .shopify_admin import AdminClient, UserErrors, graphql_topic


def shop_subscriptions(client: AdminClient, topics: Iterable[str]) -> dict[str, list[str]]:
    """Our shop-specific subscriptions to `topics` (e.g. "orders/create"), whatever their uri: topic -> gids."""
    by_enum = {graphql_topic(topic): topic for topic in topics}
    found: dict[str, list[str]] = {}
    after: str | None = None
    while True:
        data = client.execute(LIST_WEBHOOKS, {"topics": sorted(by_enum), "after": after})
        connection = data.get("webhookSubscriptions") or {}
        for node in connection.get("nodes") or []:
            topic = by_enum.get(node.get("topic"))
            if topic is not None:
                found.setdefault(topic, []).append(node["id"])
        page = connection.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            return found
        after = page.get("endCursor")


def remove_shop_subscriptions(client: AdminClient, topics: Iterable[str]) -> int:
    """Delete our shop-specific subscriptions to `topics`; returns how many went.

    Safe to repeat: a second run finds none. Raises UserErrors naming the refused ids after trying them all.
    """
    failures: list[dict[str, Any]] = []
    removed = 0
    for topic, ids in shop_subscriptions(client, topics).items():
        for gid in ids:
            payload = client.execute(DELETE_WEBHOOK, {"id": gid}).get("webhookSubscriptionDelete") or {}
            if payload.get("userErrors"):
                failures.extend({"topic": topic, "id": gid, **e} for e in payload["userErrors"])
            else:
                removed += 1
    if failures:
        raise UserErrors("webhook subscriptions not deleted: " + ", ".join(f["topic"] for f in failures), failures)
    return removed


LIST_WEBHOOKS = """
query WebhookSubscriptions($topics: [WebhookSubscriptionTopic!], $after: String) {
  webhookSubscriptions(first: 100, topics: $topics, after: $after) {
    nodes { id topic uri }
    pageInfo { hasNextPage endCursor }
  }
}
"""

DELETE_WEBHOOK = """
mutation WebhookSubscriptionDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) {
    deletedWebhookSubscriptionId
    userErrors { field message }
  }
}
"""
