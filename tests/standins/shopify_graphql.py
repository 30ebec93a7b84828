"""The stand-in Shopify's Admin GraphQL endpoint: every document validated against the real 2026-10 schema.

Split from tests/standins/shopify.py (StandInShopify mixes GraphQLAdmin in; the OAuth endpoints, the WSGI routing
and the server stay there). Documents are parsed and validated against tests/schema/shopify-admin-2026-10.json.gz,
charged to the shop's cost bucket (standins/shopify_cost.py: THROTTLED when it does not hold the query's cost,
extensions.cost on every answer), then executed over in-memory state: shop (ShopState.details), the
shop-specific webhook subscriptions here (webhookSubscriptions lists only those, never the app-specific ones
shopify.app.toml declares, as Shopify answers), products through nodes(ids:) (standins/shopify_catalog.py), the
write-back mutations (standins/shopify_writeback.py). Injected THROTTLED answers and HTTP errors are shaped as
Shopify shapes them:
https://shopify.dev/docs/api/usage/rate-limits
"""

from __future__ import annotations

import gzip
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphql import GraphQLError, GraphQLSchema, build_client_schema, execute, parse, validate
from werkzeug.wrappers import Request, Response

from tests.standins.shopify_bulk import BULK_FIELDS, BulkState, bulk_roots
from tests.standins.shopify_catalog import CatalogState, catalog_roots
from tests.standins.shopify_cost import Bucket, requested_cost
from tests.standins.shopify_writeback import WRITEBACK_FIELDS, WritebackState, writeback_roots

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "shopify-admin-2026-10.json.gz"
API_VERSION = "2026-10"
IMPLEMENTED = {
    "shop",
    "webhookSubscriptions",
    "webhookSubscriptionCreate",
    "webhookSubscriptionDelete",
    "nodes",
    *WRITEBACK_FIELDS,
    *BULK_FIELDS,
}


@lru_cache(maxsize=1)
def admin_schema() -> GraphQLSchema:
    """The real Admin schema, loaded once per test session (about a second)."""
    with gzip.open(SCHEMA_PATH) as handle:
        return build_client_schema(json.load(handle)["data"], assume_valid=True)


@dataclass
class ShopState:
    webhooks: list[dict[str, str]] = field(default_factory=list)
    writeback: WritebackState = field(default_factory=WritebackState)
    catalog: CatalogState = field(default_factory=CatalogState)
    bulk: BulkState = field(default_factory=BulkState)  # bulk queries over its customers and orders
    # The `shop` object's fields as a new development store has them (tests change them).
    details: dict[str, str] = field(
        default_factory=lambda: {
            "name": "Stand-in Shop",
            "currencyCode": "CAD",
            "ianaTimezone": "America/Toronto",
            "email": "owner@example.com",
            "contactEmail": "help@example.com",
        }
    )


class GraphQLAdmin:
    """The GraphQL half of StandInShopify (a dataclass that holds these attributes as its fields)."""

    now: Callable[[], float]
    calls: Counter
    graphql_failures: list[Any]
    slow_seconds: float
    refuse_topics: set[str]
    documents: list[str]
    shops: dict[str, ShopState]
    buckets: dict[str, Bucket]
    bucket_size: float
    restore_rate: float
    costs: list[dict[str, Any]]
    _access: dict[str, tuple[str, float]]
    _ids: itertools.count
    base_url: str
    _lock: threading.Lock

    def state(self, shop: str) -> ShopState:
        return self.shops.setdefault(shop, ShopState())

    def bucket(self, shop: str) -> Bucket:
        return self.buckets.setdefault(shop, Bucket(maximum=self.bucket_size, restore_rate=self.restore_rate))

    def subscriptions(self, shop: str) -> list[dict[str, str]]:
        """The shop-specific subscriptions our app holds at the shop (what webhookSubscriptions lists)."""
        return list(self.shops.setdefault(shop, ShopState()).webhooks)

    def add_subscription(self, shop: str, topic: str, uri: str) -> str:
        """A shop-specific subscription made earlier (by an older install, say); its gid."""
        node = self._create_webhook(shop, {"topic": topic, "webhookSubscription": {"uri": uri}})["webhookSubscription"]
        return str(node["id"])

    def _graphql(self, shop: str, request: Request) -> Response:
        owner, expires_at = self._access.get(request.headers.get("X-Shopify-Access-Token", ""), ("", 0.0))
        if owner != shop or expires_at < self.now():
            msg = "[API] Invalid API key or access token (unrecognized login or wrong password)"
            return json_response({"errors": msg}, 401)
        failure = self.graphql_failures.pop(0) if self.graphql_failures else None
        if failure == "throttle":
            return json_response(_throttled())
        if failure is not None and failure != "slow":
            return json_response({"errors": "Internal Server Error"}, int(failure))
        response = self._graphql_document(shop, request)
        if failure == "slow":
            time.sleep(self.slow_seconds)
        return response

    def _graphql_document(self, shop: str, request: Request) -> Response:
        payload = request.get_json(silent=True) or {}
        query = payload.get("query") or ""
        self.documents.append(query)
        try:
            document = parse(query)
        except GraphQLError as exc:
            return json_response({"errors": [exc.formatted]})
        errors = validate(admin_schema(), document)
        if errors:
            return json_response({"errors": [e.formatted for e in errors]})
        for op in document.definitions:
            for selection in getattr(getattr(op, "selection_set", None), "selections", []):
                self.calls[selection.name.value] += 1
                if selection.name.value not in IMPLEMENTED:
                    message = f"stand-in does not implement {selection.name.value}"
                    return json_response({"errors": [{"message": message}]})
        roots = {
            "shop": lambda info, **args: self.state(shop).details,
            "webhookSubscriptions": lambda info, **args: self._list_webhooks(shop, args),
            "webhookSubscriptionCreate": lambda info, **args: self._create_webhook(shop, args),
            "webhookSubscriptionDelete": lambda info, **args: self._delete_webhook(shop, args),
            **writeback_roots(self.state(shop).writeback),
            **catalog_roots(self.state(shop).catalog),
            **bulk_roots(
                self.state(shop).bulk, admin_schema(), lambda name: f"{self.base_url}/{shop}/bulk/{name}.jsonl"
            ),
        }
        requested = requested_cost(document, payload.get("variables"))
        with self._lock:  # one document at a time per stand-in, as a shop serialises writes to one resource
            now = self.now()
            bucket = self.bucket(shop)
            taken = bucket.charge(now, requested)
            self.costs.append({"shop": shop, "at": now, "requested": requested, "throttled": not taken})
            if not taken:
                throttled = {"message": "Throttled", "extensions": {"code": "THROTTLED"}}
                return json_response({"errors": [throttled], "extensions": bucket.extension(now, requested, None)})
            result = execute(
                admin_schema(),
                document,
                root_value=roots,
                variable_values=payload.get("variables"),
                operation_name=payload.get("operationName"),
            )
        body: dict[str, Any] = {"data": result.data, "extensions": bucket.extension(now, requested, requested)}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        return json_response(body)

    def _list_webhooks(self, shop: str, args: dict[str, Any]) -> dict[str, Any]:
        nodes = [
            w
            for w in self.subscriptions(shop)
            if (not args.get("uri") or w["uri"] == args["uri"])
            and (not args.get("topics") or w["topic"] in args["topics"])
        ]
        return {"nodes": nodes[: args.get("first") or 50], "pageInfo": {"hasNextPage": False, "endCursor": None}}

    def _create_webhook(self, shop: str, args: dict[str, Any]) -> dict[str, Any]:
        topic, uri = args["topic"], (args["webhookSubscription"] or {}).get("uri")
        state = self.shops.setdefault(shop, ShopState())
        if topic in self.refuse_topics or not uri:
            return _user_error("Address is invalid")
        if any(w["topic"] == topic and w["uri"] == uri for w in state.webhooks):
            return _user_error("Address for this topic has already been taken")
        node = {"id": f"gid://shopify/WebhookSubscription/{next(self._ids)}", "topic": topic, "uri": uri}
        state.webhooks.append(node)
        return {"webhookSubscription": node, "userErrors": []}

    def _delete_webhook(self, shop: str, args: dict[str, Any]) -> dict[str, Any]:
        state = self.shops.setdefault(shop, ShopState())
        kept = [w for w in state.webhooks if w["id"] != args["id"]]
        if len(kept) == len(state.webhooks):
            return {"deletedWebhookSubscriptionId": None, "userErrors": [{"field": ["id"], "message": "Not found"}]}
        state.webhooks = kept
        return {"deletedWebhookSubscriptionId": args["id"], "userErrors": []}


def _user_error(message: str) -> dict[str, Any]:
    return {"webhookSubscription": None, "userErrors": [{"field": ["webhookSubscription", "uri"], "message": message}]}


def _throttled() -> dict[str, Any]:
    return {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {
            "cost": {
                "requestedQueryCost": 500,
                "actualQueryCost": None,
                "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 100, "restoreRate": 100.0},
            }
        },
    }


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")
