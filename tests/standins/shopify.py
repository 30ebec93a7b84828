"""A stand-in Shopify on loopback: the OAuth endpoints and the Admin GraphQL subset we use.

Every shop lives under its own path prefix, http://127.0.0.1:PORT/{shop}/..., which is what the app's
SHOPIFY_ADMIN_ORIGIN = "http://127.0.0.1:PORT/{shop}" produces in place of https://{shop}.

- GET  /{shop}/admin/oauth/authorize     the merchant approves: 302 to redirect_uri with a code, signed
- POST /{shop}/admin/oauth/access_token  authorization_code (one-time codes), token exchange (HS256
                                         session token checked), refresh_token (rotating; reuse refused)
- POST /{shop}/admin/api/2026-10/graphql.json  X-Shopify-Access-Token checked; every document validated
                                         against the real 2026-10 schema (tests/schema); webhookSubscriptions
                                         and webhookSubscriptionCreate over an in-memory store; products
                                         through nodes(ids:) (standins/shopify_catalog.py); injected
                                         THROTTLED answers and HTTP errors.
Errors are shaped as Shopify shapes them: HTTP 200 with {"errors": [{"message": ...}]} for documents,
HTTP 401 with {"errors": "[API] Invalid API key or access token ..."} for bad tokens.

The GraphQL endpoint is tests/standins/shopify_graphql.py (mixed in as GraphQLAdmin; admin_schema is
re-exported here, where tests import it).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.standins.shopify_bulk import bulk_file
from tests.standins.shopify_graphql import API_VERSION, GraphQLAdmin, ShopState, admin_schema, json_response

__all__ = ["API_VERSION", "ShopState", "StandInServer", "StandInShopify", "admin_schema"]


@dataclass
class StandInShopify(GraphQLAdmin):
    api_key: str
    api_secret: str
    now: Callable[[], float] = time.time
    token_ttl: int = 3600
    refresh_ttl: int = 90 * 24 * 3600
    refresh_delay: float = 0.0  # widen the window of a refresh race
    calls: Counter = field(default_factory=Counter)  # grant type / graphql operation -> count
    # Injected failures, consumed one per GraphQL request: "throttle", an HTTP status, or "slow": the request
    # is applied, then answered after slow_seconds (longer than the client's timeout: a lost answer).
    graphql_failures: list[Any] = field(default_factory=list)
    slow_seconds: float = 1.0
    token_failures: list[int] = field(default_factory=list)
    refuse_topics: set[str] = field(default_factory=set)  # webhookSubscriptionCreate answers userErrors
    documents: list[str] = field(default_factory=list)
    shops: dict[str, ShopState] = field(default_factory=dict)
    # Each shop's cost bucket (standins/shopify_cost.py), created full at this size and restore rate; `costs`
    # logs every document charged: shop, the clock's time, requested cost, throttled or not.
    buckets: dict[str, Any] = field(default_factory=dict)
    bucket_size: float = 2000.0
    restore_rate: float = 100.0
    costs: list[dict[str, Any]] = field(default_factory=list)
    _codes: dict[str, str] = field(default_factory=dict)
    _access: dict[str, tuple[str, float]] = field(default_factory=dict)
    _refresh: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1001))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    # -- helpers for tests ------------------------------------------------

    def origin(self) -> str:
        return self.base_url + "/{shop}"

    def issue_code(self, shop: str) -> str:
        code = secrets.token_hex(16)
        self._codes[code] = shop
        return code

    def issue_tokens(self, shop: str, *, expires_in: int | None = None) -> dict[str, Any]:
        with self._lock:
            return self._grant(shop, expires_in)

    def signed_query(self, params: dict[str, str]) -> dict[str, str]:
        message = "&".join(sorted(f"{k}={v}" for k, v in params.items()))
        digest = hmac.new(self.api_secret.encode(), message.encode(), hashlib.sha256).hexdigest()
        return {**params, "hmac": digest}

    # -- WSGI -------------------------------------------------------------

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        shop, _, rest = request.path.lstrip("/").partition("/")
        rest = "/" + rest
        if rest == "/admin/oauth/authorize" and request.method == "GET":
            response = self._authorize(shop, request)
        elif rest == "/admin/oauth/access_token" and request.method == "POST":
            response = self._access_token(shop, request)
        elif rest == f"/admin/api/{API_VERSION}/graphql.json" and request.method == "POST":
            response = self._graphql(shop, request)
        elif rest.startswith("/bulk/") and rest.endswith(".jsonl") and request.method == "GET":
            status, body = bulk_file(self.state(shop).bulk, rest[len("/bulk/") : -len(".jsonl")])
            response = Response(body, status=status, mimetype="application/jsonl")
        else:
            response = json_response({"errors": "Not Found"}, 404)
        return response(environ, start_response)

    def _authorize(self, shop: str, request: Request) -> Response:
        if request.args.get("client_id") != self.api_key:
            return json_response({"errors": "invalid client_id"}, 400)
        params = {
            "code": self.issue_code(shop),
            "shop": shop,
            "state": request.args.get("state", ""),
            "timestamp": str(int(self.now())),
        }
        target = urlsplit(request.args["redirect_uri"])
        query = urlencode([*parse_qsl(target.query), *self.signed_query(params).items()])
        return Response(status=302, headers={"Location": urlunsplit(target._replace(query=query))})

    def _access_token(self, shop: str, request: Request) -> Response:
        body = request.get_json(silent=True) or request.form.to_dict()
        grant_type = body.get("grant_type") or "authorization_code"
        self.calls[grant_type] += 1
        if self.token_failures:
            return json_response({"errors": "Internal Server Error"}, self.token_failures.pop(0))
        if body.get("client_id") != self.api_key or body.get("client_secret") != self.api_secret:
            return json_response({"error": "invalid_client"}, 401)
        with self._lock:
            if grant_type == "authorization_code":
                if self._codes.pop(body.get("code", ""), None) != shop:
                    return json_response({"error": "invalid_request", "error_description": "bad code"}, 400)
            elif grant_type == "urn:ietf:params:oauth:grant-type:token-exchange":
                if not self._session_token_ok(shop, body):
                    return json_response({"error": "invalid_subject_token"}, 400)
            elif grant_type == "refresh_token":
                time.sleep(self.refresh_delay)
                entry = self._refresh.get(body.get("refresh_token", ""))
                if not entry or entry["shop"] != shop or entry["used"] or entry["expires_at"] < self.now():
                    return json_response({"error": "invalid_grant"}, 400)
                entry["used"] = True  # rotated: this refresh token never works again
                return json_response(self._grant(shop, self.token_ttl))
            else:
                return json_response({"error": "unsupported_grant_type"}, 400)
            expiring = str(body.get("expiring")) == "1"
            return json_response(self._grant(shop, self.token_ttl if expiring else None))

    def _session_token_ok(self, shop: str, body: dict[str, Any]) -> bool:
        if body.get("subject_token_type") != "urn:ietf:params:oauth:token-type:id_token":
            return False
        if body.get("requested_token_type") != "urn:shopify:params:oauth:token-type:offline-access-token":
            return False
        try:
            claims = jwt.decode(
                body.get("subject_token", ""), self.api_secret, algorithms=["HS256"], audience=self.api_key
            )
        except jwt.InvalidTokenError:
            return False
        return claims.get("dest") == f"https://{shop}"

    def _grant(self, shop: str, expires_in: int | None) -> dict[str, Any]:
        access = "shpat_" + secrets.token_hex(16)
        answer: dict[str, Any] = {"access_token": access, "scope": "read_orders,write_customers,write_discounts"}
        if expires_in is None:
            self._access[access] = (shop, float("inf"))
            return answer
        refresh = "shprt_" + secrets.token_hex(16)
        self._access[access] = (shop, self.now() + expires_in)
        self._refresh[refresh] = {"shop": shop, "used": False, "expires_at": self.now() + self.refresh_ttl}
        return {
            **answer,
            "expires_in": expires_in,
            "refresh_token": refresh,
            "refresh_token_expires_in": self.refresh_ttl,
        }


class StandInServer:
    """Runs a StandInShopify on 127.0.0.1 (port 0) in a thread."""

    def __init__(self, shopify: StandInShopify) -> None:
        self.shopify = shopify
        self._server = make_server("127.0.0.1", 0, shopify, threaded=True)
        shopify.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StandInShopify:
        self._thread.start()
        return self.shopify

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(5)
