"""A stand-in WooCommerce store on loopback: the wc-auth handshake and the REST v3 subset we use.

It speaks what the real `woocommerce` client package sends: over plain HTTP the
package signs requests with OAuth 1.0a in the query string (RFC 5849 base string,
HMAC-SHA256, key = consumer_secret + "&"), which this server verifies the way
WooCommerce's WC_REST_Authentication does (duplicate query keys: the last wins, as
in PHP's $_GET; stale timestamps and reused nonces are refused). Basic auth and
consumer_key/consumer_secret query parameters (the HTTPS forms) are accepted too.

Failure injection: `fail(method, path_prefix, status, times, after=n)` (after n matching requests answered),
`slow(method, path_prefix, seconds, times)`
(the request is applied, the answer comes late: a lost answer for a client with a shorter timeout), `grant_permissions`
(what the merchant's approval yields), `disable_webhook(id)` (what WooCommerce does
after repeated failed deliveries). Every request is recorded in `requests`. Write-back routes (coupons,
customers/batch, products/reviews) live in tests/standins/woo_writeback.py, their state in `writeback`;
the wc-auth handshake and request authentication in tests/standins/woo_auth.py (mixed in as WooAuth); the site's
details (the /wp-json index, settings groups) in tests/standins/woo_site.py.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.standins.generated import Generated, by_id
from tests.standins.http11 import keep_alive_server
from tests.standins.woo_auth import WooAuth, error_response
from tests.standins.woo_site import settings_group, site_index
from tests.standins.woo_writeback import WooWritebackState, route

API = "/wp-json/wc/v3"


@dataclass
class Injected:
    method: str
    prefix: str
    status: int
    times: int
    headers: dict[str, str] = field(default_factory=dict)
    after: int = 0  # matching requests answered normally first


Fields = dict[str, "Fields | None"]  # a field asked for: None (the whole value), or the fields asked of it


def field_tree(fields: list[str]) -> Fields:
    """`_fields` as a tree, once a request: `a.b` asks for the key b of a (WordPress 5.3+), `a` for all of a."""
    tree: Fields = {}
    for name in fields:
        top, _, rest = name.partition(".")
        if not rest:
            tree[top] = None
        elif tree.get(top, {}) is not None:
            inner = tree.setdefault(top, {})
            assert inner is not None
            inner.update(field_tree([rest]))
    return tree


def only_fields(item: dict[str, Any], tree: Fields) -> dict[str, Any]:
    """`item` with only the fields of `tree`, in the item's own key order, as rest_filter_response_fields keeps
    them; a field the item lacks is left out, not an error; `_links` only when listed (the links are part of the
    item's body here)."""
    kept: dict[str, Any] = {}
    for key, value in item.items():
        if key not in tree:
            continue
        inner = tree[key]
        if inner is None:
            kept[key] = value
        elif isinstance(value, dict):
            kept[key] = only_fields(value, inner)
    return kept


def _dumps(items: list[dict[str, Any]]) -> bytes:
    """A list page's body: compact, as WordPress's wp_json_encode writes it; by orjson (a page of 100 orders ~10x
    faster than json.dumps: the bench's store shares the import's cores), by json for what orjson refuses (an
    integer past 64 bits). The records are the tests' own: no NaN, which orjson would write as null."""
    try:
        return orjson.dumps(items)
    except orjson.JSONEncodeError:
        return json.dumps(items, separators=(",", ":")).encode()


class WooStandin(WooAuth):
    def __init__(self, *, keep_alive: bool = False) -> None:
        self.keys: dict[str, dict[str, Any]] = {}  # consumer_key -> {secret, permissions, key_id}
        self.webhooks: dict[int, dict[str, Any]] = {}
        # REST order and customer bodies (each customer with its `role`): a list, or a Generated one (made page
        # by page when asked for: tests/standins/generated.py)
        self.orders: list[dict[str, Any]] | Generated = []
        self.customers: list[dict[str, Any]] | Generated = []
        self.products: dict[int, dict[str, Any]] = {}  # id -> {id, name, permalink, images: [{id, src}]}
        self.product_queries: list[list[str]] = []  # the `include` ids of every GET /products
        self.requests: list[tuple[str, str]] = []
        self.callbacks: list[tuple[int, dict[str, Any]]] = []  # (status our app answered, body posted)
        self.grant_permissions: str | None = None  # None: what the scope asked for
        self.ca_bundle: str | None = None  # the certificate our https callback is verified with
        # Settings > General of WordPress and WooCommerce, and WooCommerce > Settings > Emails (tests set them):
        # a fresh WordPress has no timezone_string and gmt_offset 0; WooCommerce's currency defaults to USD and
        # its "From" address to the admin e-mail.
        self.site_name = "Stand-in Shop"
        self.timezone_string = ""
        self.gmt_offset: float = 0
        self.currency = "USD"
        self.email_from = "owner@example.com"
        self._failures: list[Injected] = []
        self.page_seconds = 0.0  # slept over each list page: a real store's PHP and MySQL (the bench's stand-in)
        self._slow: list[tuple[str, str, float, list[int]]] = []
        self.writeback = WooWritebackState()
        self._nonces: set[tuple[int, str]] = set()
        self._callback_urls: list[str] = []
        self._next_id = 100
        self._lock = threading.Lock()
        # keep_alive: HTTP/1.1 connections kept open between requests, as a store's web server (nginx, Apache)
        # keeps them (the bench's store: bench/history_standins.py); werkzeug's default, HTTP/1.0, closes each one.
        self._server = (
            keep_alive_server(self._wsgi) if keep_alive else make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> WooStandin:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    # -- test controls --------------------------------------------------------

    def fail(self, method: str, prefix: str, status: int, times: int = 1, *, after: int = 0, **headers: str) -> None:
        self._failures.append(Injected(method, prefix, status, times, headers, after))

    def slow(self, method: str, prefix: str, seconds: float, times: int = 1) -> None:
        self._slow.append((method, prefix, seconds, [times]))

    def disable_webhook(self, webhook_id: int) -> None:
        self.webhooks[webhook_id]["status"] = "disabled"

    def add_key(self, permissions: str = "read_write") -> tuple[str, str]:
        key, secret = "ck_" + secrets.token_hex(20), "cs_" + secrets.token_hex(20)
        self.keys[key] = {"secret": secret, "permissions": permissions, "key_id": self._new_id()}
        return key, secret

    def repost_callback(self, index: int = -1) -> int:
        """Send a callback body again (a retry, or a replayed approval); returns our app's status."""
        body, url = self.callbacks[index][1], self._callback_urls[index]
        return requests.post(url, json=body, timeout=10, verify=self.ca_bundle or True).status_code

    def site_zone(self) -> str:
        """The zone naive dates are read in (wp_timezone_string): the zone name, else the fixed offset."""
        if self.timezone_string:
            return self.timezone_string
        hours = int(self.gmt_offset)
        return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"

    def webhooks_for(self, delivery_url: str) -> list[dict[str, Any]]:
        return [w for w in self.webhooks.values() if w["delivery_url"] == delivery_url]

    # -- server ---------------------------------------------------------------

    def _new_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def _wsgi(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        self.requests.append((request.method, request.path))
        response = self._route(request)
        path = request.path[len(API) :]
        for method, prefix, seconds, left in self._slow:
            if left[0] > 0 and method == request.method and path.startswith(prefix):
                left[0] -= 1
                time.sleep(seconds)
                break
        return response(environ, start_response)

    def _injected(self, method: str, path: str) -> Injected | None:
        with self._lock:  # requests arrive on threads of their own (pages in flight): each failure counted once
            for injected in self._failures:
                if injected.times > 0 and injected.method == method and path.startswith(injected.prefix):
                    if injected.after > 0:
                        injected.after -= 1
                        continue
                    injected.times -= 1
                    return injected
        return None

    def _route(self, request: Request) -> Response:
        if request.path == "/wc-auth/v1/authorize":
            return self._authorize(request)
        if request.path in ("/wp-json", "/wp-json/"):
            return site_index(self, request)
        if not request.path.startswith(API + "/"):
            return error_response(404, "rest_no_route", "No route was found matching the URL and request method.")
        path = request.path[len(API) :]
        injected = self._injected(request.method, path)
        if injected is not None:
            response = error_response(injected.status, "injected", "injected failure")
            response.headers.update(injected.headers)
            return response
        key = self._authenticate(request)
        if isinstance(key, Response):
            return key
        if request.method != "GET" and self.keys[key]["permissions"] == "read":
            message = "Sorry, you are not allowed to create resources."
            return error_response(401, "woocommerce_rest_cannot_create", message)
        if path == "/webhooks":
            return (
                self._list(request, list(self.webhooks.values())) if request.method == "GET" else self._create(request)
            )
        if path.startswith("/webhooks/"):
            return self._webhook(request, path.rsplit("/", 1)[1])
        if path == "/orders" and request.method == "GET":
            return self._orders(request)
        if path == "/customers" and request.method == "GET":
            return self._customers(request)
        if path == "/products" and request.method == "GET":
            return self._products(request)
        if path in ("/settings/general", "/settings/email") and request.method == "GET":
            return settings_group(self, path.rsplit("/", 1)[1])
        self.writeback.orders, self.writeback.timezone = self.orders, self.site_zone()
        answer = route(self.writeback, self._new_id, request, path)
        if answer is not None:
            return answer
        return error_response(404, "rest_no_route", "No route was found matching the URL and request method.")

    def _list(self, request: Request, items: Sequence[dict[str, Any]]) -> Response:
        # per_page: 1 to 100, else 400 rest_invalid_param, as every WordPress collection's schema says;
        # _fields: the fields kept of each item (WordPress's rest_filter_response_fields, on every route).
        pairs = parse_qsl(urlsplit(request.url).query)
        query = dict(pairs)
        per_page = int(query.get("per_page", 10)) if query.get("per_page", "10").isdigit() else 0
        if not 1 <= per_page <= 100:
            return error_response(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        page = int(query.get("page", 1))
        total_pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        if self.page_seconds:
            time.sleep(self.page_seconds)
        fields = [f.strip() for k, v in pairs if k in ("_fields", "_fields[]") for f in v.split(",") if f.strip()]
        if fields:
            tree = field_tree(fields)
            chunk = [only_fields(item, tree) for item in chunk]
        response = Response(_dumps(chunk), mimetype="application/json")
        response.headers["X-WP-Total"] = str(len(items))
        response.headers["X-WP-TotalPages"] = str(total_pages)
        return response

    def _create(self, request: Request) -> Response:
        data = request.get_json(force=True)
        if data.get("topic") not in (
            "order.created",
            "order.updated",
            "order.deleted",
            "order.restored",
            "customer.created",
            "customer.updated",
        ):
            return error_response(400, "rest_invalid_param", "Invalid parameter(s): topic")
        webhook_id = self._new_id()
        self.webhooks[webhook_id] = {
            "id": webhook_id,
            "name": data.get("name", ""),
            "status": data.get("status", "active"),
            "topic": data["topic"],
            "delivery_url": data["delivery_url"],
            "secret_for_tests": data.get("secret", ""),  # the real API does not echo the secret in lists
            "failure_count": 0,
        }
        return Response(json.dumps(self.webhooks[webhook_id]), status=201, mimetype="application/json")

    def _webhook(self, request: Request, raw_id: str) -> Response:
        webhook = self.webhooks.get(int(raw_id)) if raw_id.isdigit() else None
        if webhook is None:
            return error_response(404, "woocommerce_rest_webhook_invalid_id", "Invalid ID.")
        if request.method == "DELETE":
            if request.args.get("force") not in ("true", "1"):
                return error_response(501, "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.")
            return Response(json.dumps(self.webhooks.pop(webhook["id"])), mimetype="application/json")
        if request.method == "PUT":
            data = request.get_json(force=True)
            for name in ("name", "status", "delivery_url", "topic"):
                if name in data:
                    webhook[name] = data[name]
            if "secret" in data:
                webhook["secret_for_tests"] = data["secret"]
        return Response(json.dumps(webhook), mimetype="application/json")

    def add_product(self, product_id: int, name: str, image: str | None, permalink: str) -> None:
        images = [{"id": product_id * 10, "src": image, "name": name, "alt": ""}] if image else []
        self.products[product_id] = {"id": product_id, "name": name, "permalink": permalink, "images": images}

    def _products(self, request: Request) -> Response:
        # include: a comma-separated id list (wp_parse_id_list); per_page above 100 is refused, as by the real API.
        query = dict(parse_qsl(urlsplit(request.url).query))
        include = [i for i in query.get("include", "").split(",") if i]
        self.product_queries.append(include)
        items = [p for p in self.products.values() if not include or str(p["id"]) in include]
        return self._list(request, sorted(items, key=lambda p: p["id"]))

    def _customers(self, request: Request) -> Response:
        # role: "customer" unless asked (role=all lists every role), as WC_REST_Customers_Controller does.
        query = dict(parse_qsl(urlsplit(request.url).query))
        role = query.get("role", "customer")
        items = self.customers if role == "all" else [c for c in self.customers if c.get("role") == role]
        return self._list(request, by_id(items, descending=query.get("order", "asc") == "desc"))

    def _orders(self, request: Request) -> Response:
        query = dict(parse_qsl(urlsplit(request.url).query))
        items: Sequence[dict[str, Any]] = self.orders
        if "modified_after" in query:
            if query.get("dates_are_gmt") != "true":
                return error_response(400, "standin_expects_gmt", "the stand-in only implements dates_are_gmt=true")
            items = [o for o in items if o["date_modified_gmt"] > query["modified_after"]]
        return self._list(request, by_id(items, descending=query.get("order", "desc") == "desc"))
