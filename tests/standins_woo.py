"""A stand-in WooCommerce store on loopback: the wc-auth handshake and the REST v3 subset we use.

It speaks what the real `woocommerce` client package sends: over plain HTTP the
package signs requests with OAuth 1.0a in the query string (RFC 5849 base string,
HMAC-SHA256, key = consumer_secret + "&"), which this server verifies the way
WooCommerce's WC_REST_Authentication does (duplicate query keys: the last wins, as
in PHP's $_GET; stale timestamps and reused nonces are refused). Basic auth and
consumer_key/consumer_secret query parameters (the HTTPS forms) are accepted too.

Failure injection: `fail(method, path_prefix, status, times)`, `slow(method, path_prefix, seconds, times)`
(the request is applied, the answer comes late: a lost answer for a client with a shorter timeout), `grant_permissions`
(what the merchant's approval yields), `disable_webhook(id)` (what WooCommerce does
after repeated failed deliveries). Every request is recorded in `requests`. Write-back routes (coupons,
customers/batch, products/reviews) live in tests/standins/woo_writeback.py, their state in `writeback`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.standins.woo_writeback import WooWritebackState, route

API = "/wp-json/wc/v3"


def _enc(value: str) -> str:
    return quote(value, safe="~")


def _error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"code": code, "message": message, "data": {"status": status}})
    return Response(body, status=status, mimetype="application/json")


@dataclass
class Injected:
    method: str
    prefix: str
    status: int
    times: int
    headers: dict[str, str] = field(default_factory=dict)


class WooStandin:
    def __init__(self) -> None:
        self.keys: dict[str, dict[str, Any]] = {}  # consumer_key -> {secret, permissions, key_id}
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.orders: list[dict[str, Any]] = []
        self.products: dict[int, dict[str, Any]] = {}  # id -> {id, name, permalink, images: [{id, src}]}
        self.product_queries: list[list[str]] = []  # the `include` ids of every GET /products
        self.requests: list[tuple[str, str]] = []
        self.callbacks: list[tuple[int, dict[str, Any]]] = []  # (status our app answered, body posted)
        self.grant_permissions: str | None = None  # None: what the scope asked for
        self._failures: list[Injected] = []
        self._slow: list[tuple[str, str, float, list[int]]] = []
        self.writeback = WooWritebackState()
        self._nonces: set[tuple[int, str]] = set()
        self._callback_urls: list[str] = []
        self._next_id = 100
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> WooStandin:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    # -- test controls --------------------------------------------------------

    def fail(self, method: str, prefix: str, status: int, times: int = 1, **headers: str) -> None:
        self._failures.append(Injected(method, prefix, status, times, headers))

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
        return requests.post(url, json=body, timeout=10).status_code

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

    def _route(self, request: Request) -> Response:
        if request.path == "/wc-auth/v1/authorize":
            return self._authorize(request)
        if not request.path.startswith(API + "/"):
            return _error(404, "rest_no_route", "No route was found matching the URL and request method.")
        path = request.path[len(API) :]
        for injected in self._failures:
            if injected.times > 0 and injected.method == request.method and path.startswith(injected.prefix):
                injected.times -= 1
                response = _error(injected.status, "injected", "injected failure")
                response.headers.update(injected.headers)
                return response
        key = self._authenticate(request)
        if isinstance(key, Response):
            return key
        if request.method != "GET" and self.keys[key]["permissions"] == "read":
            return _error(401, "woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources.")
        if path == "/webhooks":
            return (
                self._list(request, list(self.webhooks.values())) if request.method == "GET" else self._create(request)
            )
        if path.startswith("/webhooks/"):
            return self._webhook(request, path.rsplit("/", 1)[1])
        if path == "/orders" and request.method == "GET":
            return self._orders(request)
        if path == "/products" and request.method == "GET":
            return self._products(request)
        answer = route(self.writeback, self._new_id, request, path)
        if answer is not None:
            return answer
        return _error(404, "rest_no_route", "No route was found matching the URL and request method.")

    # wc-auth: the merchant approves at once; keys are POSTed to callback_url, then a redirect.
    def _authorize(self, request: Request) -> Response:
        args = request.args
        for name in ("app_name", "scope", "user_id", "return_url", "callback_url"):
            if not args.get(name):
                return Response(f"Error: {name} is required.", status=401)
        scope = args["scope"] if args["scope"] in ("read", "write", "read_write") else "read"
        key, secret = self.add_key(self.grant_permissions or scope)
        body = {
            "key_id": self.keys[key]["key_id"],
            "user_id": args["user_id"],
            "consumer_key": key,
            "consumer_secret": secret,
            "key_permissions": self.keys[key]["permissions"],
        }
        try:
            status = requests.post(args["callback_url"], json=body, timeout=10).status_code
        except requests.RequestException:
            status = 0
        self.callbacks.append((status, body))
        self._callback_urls.append(args["callback_url"])
        sep = "&" if "?" in args["return_url"] else "?"
        if status != 200:  # WC_Auth::maybe_delete_key, then wp_die(..., 401)
            self.keys.pop(key, None)
            return Response(
                "Error: An error occurred in the request and at the time were unable to send the consumer data.",
                status=401,
            )
        target = f"{args['return_url']}{sep}{urlencode({'success': 1, 'user_id': args['user_id']})}"
        return Response("", status=302, headers={"Location": target})

    def _authenticate(self, request: Request) -> str | Response:
        query = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))  # last wins, as in PHP
        if request.authorization and request.authorization.type == "basic":
            key, secret = request.authorization.username or "", request.authorization.password or ""
        elif "consumer_key" in query:
            key, secret = query["consumer_key"], query.get("consumer_secret", "")
        elif "oauth_signature" in query:
            return self._check_oauth(request, query)
        else:
            return _error(401, "woocommerce_rest_authentication_error", "Consumer key is missing.")
        stored = self.keys.get(key)
        if stored is None or not hmac.compare_digest(stored["secret"], secret):
            return _error(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
        return key

    def _check_oauth(self, request: Request, query: dict[str, str]) -> str | Response:
        stored = self.keys.get(query.get("oauth_consumer_key", ""))
        if stored is None:
            return _error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        method = query.get("oauth_signature_method", "")
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            return _error(401, "woocommerce_rest_authentication_error", "Invalid signature - method not supported.")
        params = sorted((k, v) for k, v in query.items() if k != "oauth_signature")
        normalised = "&".join(f"{_enc(k)}={_enc(v)}" for k, v in params)
        base_url = f"{self.url}{request.path}"
        base = "&".join((request.method, _enc(base_url), _enc(normalised)))
        digest = hashlib.sha256 if method == "HMAC-SHA256" else hashlib.sha1
        expected = base64.b64encode(hmac.new((stored["secret"] + "&").encode(), base.encode(), digest).digest())
        if not hmac.compare_digest(expected.decode(), query["oauth_signature"]):
            return _error(
                401, "woocommerce_rest_authentication_error", "Invalid signature - provided signature does not match."
            )
        stamp = int(query.get("oauth_timestamp", "0") or 0)
        nonce = query.get("oauth_nonce", "")
        if abs(time.time() - stamp) > 15 * 60 or (stamp, nonce) in self._nonces:
            return _error(401, "woocommerce_rest_authentication_error", "Invalid timestamp or nonce.")
        self._nonces.add((stamp, nonce))
        return query["oauth_consumer_key"]

    def _list(self, request: Request, items: list[dict[str, Any]]) -> Response:
        query = dict(parse_qsl(urlsplit(request.url).query))
        per_page = min(100, int(query.get("per_page", 10)))
        page = int(query.get("page", 1))
        total_pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        response = Response(json.dumps(chunk), mimetype="application/json")
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
            return _error(400, "rest_invalid_param", "Invalid parameter(s): topic")
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
            return _error(404, "woocommerce_rest_webhook_invalid_id", "Invalid ID.")
        if request.method == "DELETE":
            if request.args.get("force") not in ("true", "1"):
                return _error(501, "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.")
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
        if int(query.get("per_page", 10)) > 100:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        include = [i for i in query.get("include", "").split(",") if i]
        self.product_queries.append(include)
        items = [p for p in self.products.values() if not include or str(p["id"]) in include]
        return self._list(request, sorted(items, key=lambda p: p["id"]))

    def _orders(self, request: Request) -> Response:
        query = dict(parse_qsl(urlsplit(request.url).query))
        items = self.orders
        if "modified_after" in query:
            if query.get("dates_are_gmt") != "true":
                return _error(400, "standin_expects_gmt", "the stand-in only implements dates_are_gmt=true")
            items = [o for o in items if o["date_modified_gmt"] > query["modified_after"]]
        items = sorted(items, key=lambda o: o["id"], reverse=query.get("order", "desc") == "desc")
        return self._list(request, items)
