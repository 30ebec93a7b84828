"""Shopify Admin API calls: GraphQL through the ShopifyAPI package, and the OAuth token endpoint.

Docs relied on:
- GraphQL Admin API, one pinned version: https://shopify.dev/docs/api/usage/versioning
- Rate limits (cost-based throttle, THROTTLED errors, extensions.cost.throttleStatus):
  https://shopify.dev/docs/api/usage/limits#graphql-admin-api-rate-limits
- Status and error codes (HTTP 200 with `errors`, 429, 5xx): https://shopify.dev/docs/api/usage/response-codes
- Webhook subscriptions are app-specific (shopify.app.toml); connectors/shopify_webhooks.py removes the
  shop-specific ones older installs made.
- Token endpoint (authorization code, token exchange, refresh of expiring offline tokens):
  https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant
  https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/token-exchange
  https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens

`origin` is how tests reach a stand-in server on loopback: None (production) means https://{shop}; a test
passes e.g. "http://127.0.0.1:5123/{shop}" ({shop} is replaced, so the stand-in knows which shop is asked).
The ShopifyAPI package still builds the path (/admin/api/{version}/graphql.json); only the origin changes.
"""

from __future__ import annotations

import json
import math
import urllib.error
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
import shopify

from .catalog import ProductInfo, shopify_products
from .exceptions import ConnectorError, RateLimited, StoreUnavailable
from .shopify_graphql import DEFAULT_TIMEOUT_SECONDS, TimedGraphQL
from .shopify_pacing import COSTS, Pacer, query_cost

API_VERSION = "2026-10"
TOKEN_TIMEOUT_SECONDS = 10.0
OFFLINE_TOKEN = "urn:shopify:params:oauth:token-type:offline-access-token"  # noqa: S105  (a type name)
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105


class AdminAPIError(ConnectorError):
    """The Admin API refused a document (`errors`) or answered 4xx; not worth retrying as is."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class UserErrors(AdminAPIError):
    """A mutation ran but refused its input (`userErrors`)."""


class TokenRequestError(ConnectorError):
    """The token endpoint refused a grant (bad code, expired or reused refresh token, bad session token)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class TokenGrant:
    """What /admin/oauth/access_token answers; the expiry fields are absent for non-expiring tokens."""

    access_token: str
    scope: str
    expires_in: int | None = None
    refresh_token: str | None = None
    refresh_token_expires_in: int | None = None


def shop_origin(shop: str, origin: str | None = None) -> str:
    return (origin.replace("{shop}", shop) if origin else f"https://{shop}").rstrip("/")


class TokenClient:
    """POSTs to https://{shop}/admin/oauth/access_token with the app's client credentials."""

    def __init__(self, api_key: str, api_secret: str, *, origin: str | None = None) -> None:
        self._api_key = api_key
        self._api_secret = api_secret
        self._origin = origin

    def exchange_code(self, shop: str, code: str) -> TokenGrant:
        # expiring=1 asks for an expiring offline token with a refresh token (public apps must use them).
        return self._grant(shop, {"code": code, "expiring": "1"})

    def exchange_session_token(self, shop: str, session_token: str) -> TokenGrant:
        return self._grant(
            shop,
            {
                "grant_type": TOKEN_EXCHANGE_GRANT,
                "subject_token": session_token,
                "subject_token_type": ID_TOKEN_TYPE,
                "requested_token_type": OFFLINE_TOKEN,
                "expiring": "1",
            },
        )

    def refresh(self, shop: str, refresh_token: str) -> TokenGrant:
        return self._grant(shop, {"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _grant(self, shop: str, fields: Mapping[str, str]) -> TokenGrant:
        body = {"client_id": self._api_key, "client_secret": self._api_secret, **fields}
        url = shop_origin(shop, self._origin) + "/admin/oauth/access_token"
        try:
            response = requests.post(
                url, json=body, headers={"Accept": "application/json"}, timeout=TOKEN_TIMEOUT_SECONDS
            )
        except requests.RequestException as exc:
            raise StoreUnavailable(f"token endpoint unreachable: {type(exc).__name__}") from exc
        if response.status_code == 429:
            raise RateLimited("token endpoint throttled", _retry_after(response.headers.get("Retry-After")))
        if response.status_code >= 500:
            raise StoreUnavailable(f"token endpoint answered {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code != 200 or not isinstance(data, dict) or not data.get("access_token"):
            # The body's error code (invalid_grant, invalid_request, ...) is safe to keep; it never echoes tokens.
            code = data.get("error") if isinstance(data, dict) else None
            raise TokenRequestError(f"token request refused: {code or response.status_code}", response.status_code)
        return TokenGrant(
            access_token=str(data["access_token"]),
            scope=str(data.get("scope") or ""),
            expires_in=_int_or_none(data.get("expires_in")),
            refresh_token=data.get("refresh_token") or None,
            refresh_token_expires_in=_int_or_none(data.get("refresh_token_expires_in")),
        )


class AdminClient:
    """One shop's Admin GraphQL endpoint at API_VERSION, through shopify.GraphQL (with a timeout); calls paced by
    `pacer` (shopify_pacing.py) when one is given."""

    def __init__(
        self,
        shop: str,
        access_token: str,
        *,
        origin: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        pacer: Pacer | None = None,
    ) -> None:
        self.shop = shop
        self._pacer = pacer
        session = shopify.Session(shop, API_VERSION, access_token)
        # shopify.GraphQL reads the active session (thread-local in ShopifyResource) when built; we
        # activate ours only for that moment so no token lingers on the thread for other code.
        shopify.ShopifyResource.activate_session(session)
        try:
            self._graphql = TimedGraphQL(timeout)
            self._graphql.headers = dict(self._graphql.headers)
        finally:
            shopify.ShopifyResource.clear_session()
        if origin:
            self._graphql.endpoint = self._graphql.endpoint.replace(
                shop_origin(session.url), shop_origin(session.url, origin), 1
            )

    @property
    def endpoint(self) -> str:
        return self._graphql.endpoint

    def execute(self, document: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a successful answer; RateLimited, StoreUnavailable or AdminAPIError otherwise."""
        if self._pacer is not None:
            self._pacer.before(self.shop, COSTS.expected(document))
        try:
            raw = self._graphql.execute(document, variables=dict(variables) if variables else None)
        except urllib.error.HTTPError as exc:
            if exc.code == 429:
                raise RateLimited("Admin API answered 429", _retry_after(exc.headers.get("Retry-After"))) from exc
            if exc.code >= 500:
                raise StoreUnavailable(f"Admin API answered {exc.code}") from exc
            raise AdminAPIError(f"Admin API answered {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise StoreUnavailable(f"Admin API unreachable: {type(exc).__name__}") from exc
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise StoreUnavailable("Admin API answered something that is not JSON") from exc
        cost = query_cost(body)
        COSTS.remember(document, cost.requested)
        if self._pacer is not None and cost.status is not None:
            self._pacer.after(self.shop, cost.status)
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            if isinstance(errors, list) and any(_code(e) == "THROTTLED" for e in errors):
                raise RateLimited("Admin API throttled the query", _throttle_wait(body))
            messages = [e.get("message", "") for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
            raise AdminAPIError("; ".join(messages) or str(errors), errors if isinstance(errors, list) else None)
        return body.get("data") or {}

    def products(self, product_ids: Iterable[str]) -> dict[str, ProductInfo]:
        """Title, image and storefront link of products by numeric id (connectors/catalog.py), 250 per call."""
        return shopify_products(self, product_ids)


def graphql_topic(topic: str) -> str:
    """Our topic name ("orders/create") as the WebhookSubscriptionTopic enum ("ORDERS_CREATE")."""
    return topic.replace("/", "_").upper()


def _code(error: Any) -> str | None:
    return (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None


def _throttle_wait(body: dict[str, Any]) -> float:
    # Wait until the bucket has restored enough points for the query that was refused.
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        missing = float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
        return max(1.0, math.ceil(missing / float(status["restoreRate"])))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return 1.0


def _retry_after(value: str | None) -> float:
    try:
        return max(1.0, float(value)) if value else 1.0
    except ValueError:
        return 1.0


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
