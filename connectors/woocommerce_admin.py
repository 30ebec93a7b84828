"""WooCommerce REST v3 admin calls: webhooks and the orders list, via the `woocommerce` package.

Docs relied on (https://woocommerce.github.io/woocommerce-rest-api-docs/):
- #authentication: over HTTPS the package sends the consumer key/secret as HTTP
  Basic auth; over plain HTTP it signs each request with OAuth 1.0a (HMAC-SHA256)
  in the query string, because the secret must not travel in clear.
- #webhooks: create/list/update/delete (`force=true` to delete: webhooks have no trash).
  WooCommerce sets a webhook to "disabled" after repeated failed deliveries.
- #list-all-orders: `modified_after` with `dates_are_gmt=true`, `page`, `per_page`
  (max 100); totals in the X-WP-Total / X-WP-TotalPages headers (#pagination).

Errors map onto connectors.exceptions: 429 -> RateLimited (Retry-After), 5xx or no
answer -> StoreUnavailable, 401/403 -> AccessDenied, 404 -> NotFound. Nothing here
logs a key, a secret or a payload.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter
from requests.auth import HTTPBasicAuth
from woocommerce import API
from woocommerce.oauth import OAuth

from .catalog import WOO_BATCH, ProductInfo, chunks, woo_product_info
from .decoding import loads
from .exceptions import ConnectorError, RateLimited, StoreUnavailable

API_VERSION = "wc/v3"
PER_PAGE = 100  # the REST API's maximum


class AccessDenied(ConnectorError):
    """401/403: the key was revoked, lacks a permission, or never belonged to this site."""


class NotFound(ConnectorError):
    """404: the resource (or the REST API itself, when permalinks are plain) is not there."""


def _retry_after(value: str | None, default: float = 60.0) -> float:
    try:
        return max(0.0, float(value)) if value else default
    except ValueError:
        return default


def _check(response: requests.Response, what: str) -> requests.Response:
    status = response.status_code
    if status < 300:
        return response
    if status == 429:
        raise RateLimited(f"{what}: HTTP 429", retry_after=_retry_after(response.headers.get("Retry-After")))
    if status >= 500:
        raise StoreUnavailable(f"{what}: HTTP {status}")
    if status in (401, 403):
        raise AccessDenied(f"{what}: HTTP {status}")
    if status == 404:
        raise NotFound(f"{what}: HTTP 404")
    # The REST API answers {"code": "...", "message": "..."}; the code is safe to carry.
    code = ""
    try:
        code = str((response.json() or {}).get("code", ""))[:80]
    except ValueError:
        pass
    raise ConnectorError(f"{what}: HTTP {status} {code}".rstrip())


#: The charsets under which requests reads a body as UTF-8 (and with none, it guesses from the bytes: UTF-8 for
#: JSON without a byte-order mark). Only there is orjson's strict UTF-8 the same reading; others keep requests'.
_UTF8 = ("utf-8", "utf8")


def _json(response: requests.Response, what: str) -> Any:
    try:
        if (response.encoding or "utf-8").lower() in _UTF8:
            # response.json()'s object, by orjson where that is the same (connectors/decoding.py): a REST page
            # of 100 orders decoded 3x faster (bench/history_parse.py).
            return loads(response.content, lambda _: response.json())
        return response.json()
    except ValueError:
        # A caching plugin or a login page answering instead of the REST API.
        raise StoreUnavailable(f"{what}: answer is not JSON") from None


def _json_object(response: requests.Response, what: str) -> dict[str, Any]:
    # The REST API answers one resource (a webhook, a coupon, a review) as a JSON object: the cast types the
    # decoded answer at this boundary without a run-time check, so a store answering otherwise fails as before.
    return cast("dict[str, Any]", _json(response, what))


def gmt_param(moment: datetime) -> str:
    """ISO 8601 without offset, read as UTC because we also send dates_are_gmt=true."""
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()


class WooAdminClient:
    """One store's REST API, authenticated with the consumer key pair it gave us."""

    def __init__(self, site_url: str, consumer_key: str, consumer_secret: str, *, timeout: float = 10.0) -> None:
        self._api = API(
            url=site_url.rstrip("/"),
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            version=API_VERSION,
            timeout=timeout,
        )

    def _call(self, method: str, endpoint: str, what: str, **kwargs: Any) -> requests.Response:
        try:
            # woocommerce.API is untyped (Any); each of its verbs answers the requests.Response of the call.
            response: requests.Response = getattr(self._api, method)(endpoint, **kwargs)
        except requests.RequestException as exc:
            raise StoreUnavailable(f"{what}: {type(exc).__name__}") from None
        return _check(response, what)

    def session(self, connections: int) -> requests.Session:
        """A session keeping up to `connections` connections to the store open, for `get_kept_alive`."""
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(1, connections))
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def get_kept_alive(
        self, session: requests.Session, endpoint: str, what: str, params: dict[str, str]
    ) -> requests.Response:
        """GET `endpoint` as `_call` does, through `session`: the package opens a connection per call (a TCP and TLS
        handshake for every page of the history import); a session reuses them (HTTP keep-alive). Authenticated
        as the package does: Basic auth over HTTPS, an OAuth 1.0a signature (its own) in the query over HTTP."""
        api = self._api
        url = f"{api.url}/wp-json/{api.version}/{endpoint}"
        auth = None
        if api.is_ssl:
            auth = HTTPBasicAuth(api.consumer_key, api.consumer_secret)
            url = f"{url}?{urlencode(params)}"
        else:
            oauth = OAuth(f"{url}?{urlencode(params)}", api.consumer_key, api.consumer_secret, version=api.version)
            url = oauth.get_oauth_url()
        headers = {"user-agent": api.user_agent, "accept": "application/json"}
        try:
            response = session.get(url, auth=auth, headers=headers, timeout=api.timeout, verify=api.verify_ssl)
        except requests.RequestException as exc:
            raise StoreUnavailable(f"{what}: {type(exc).__name__}") from None
        return _check(response, what)

    # -- webhooks -------------------------------------------------------------

    def list_webhooks(self) -> list[dict[str, Any]]:
        webhooks: list[dict[str, Any]] = []
        for page in self._pages("webhooks", {}, "webhooks.list"):
            webhooks.extend(page)
        return webhooks

    def create_webhook(self, *, name: str, topic: str, delivery_url: str, secret: str) -> dict[str, Any]:
        data = {"name": name, "topic": topic, "delivery_url": delivery_url, "secret": secret, "status": "active"}
        return _json_object(self._call("post", "webhooks", "webhooks.create", data=data), "webhooks.create")

    def update_webhook(self, webhook_id: int | str, **fields: Any) -> dict[str, Any]:
        return _json_object(
            self._call("put", f"webhooks/{int(webhook_id)}", "webhooks.update", data=fields), "webhooks.update"
        )

    def delete_webhook(self, webhook_id: int | str) -> bool:
        """Delete for good; False when it was already gone."""
        try:
            self._call("delete", f"webhooks/{int(webhook_id)}", "webhooks.delete", params={"force": "true"})
        except NotFound:
            return False
        return True

    # -- orders ---------------------------------------------------------------

    def orders_modified_after(self, after: datetime, *, max_pages: int = 100) -> Iterator[list[dict[str, Any]]]:
        """Pages of orders modified after `after` (UTC), oldest id first, at most max_pages pages."""
        params = {"modified_after": gmt_param(after), "dates_are_gmt": "true", "orderby": "id", "order": "asc"}
        yield from self._pages("orders", params, "orders.list", max_pages=max_pages)

    # -- products -------------------------------------------------------------

    def products(self, product_ids: Iterable[str]) -> dict[str, ProductInfo]:
        """Title, featured image and permalink by product id, 100 ids per call (connectors/catalog.py)."""
        found: dict[str, ProductInfo] = {}
        for batch in chunks(product_ids, WOO_BATCH):
            params = {"include": ",".join(batch), "per_page": str(WOO_BATCH)}
            items = _json(self._call("get", "products", "products.list", params=params), "products.list")
            if not isinstance(items, list):
                raise StoreUnavailable("products.list: expected a JSON list")
            for item in items:
                if isinstance(item, dict) and item.get("id") is not None and str(item["id"]) in batch:
                    info = woo_product_info(item)
                    found[info.product_id] = info
        return found

    def _pages(
        self, endpoint: str, params: dict[str, str], what: str, *, max_pages: int = 100
    ) -> Iterator[list[dict[str, Any]]]:
        page = 1
        while page <= max_pages:
            response = self._call(
                "get", endpoint, what, params={**params, "per_page": str(PER_PAGE), "page": str(page)}
            )
            items = _json(response, what)
            if not isinstance(items, list):
                raise StoreUnavailable(f"{what}: expected a JSON list")
            if items:
                yield items
            total = response.headers.get("X-WP-TotalPages", "")
            more = page < int(total) if total.isdigit() else len(items) >= PER_PAGE
            if not items or not more:
                return
            page += 1
