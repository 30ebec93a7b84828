"""The ShopifyAPI package's GraphQL client with a timeout, and global id (gid) helpers.

shopify.GraphQL.execute calls urllib's urlopen without a timeout, so a store that accepts the connection and
never answers would hold an RQ worker forever; it also print()s the error body of any HTTP error, which can
echo a payload into the worker's log. TimedGraphQL keeps the package's endpoint and headers (the session's
site, API version and X-Shopify-Access-Token, as shopify.GraphQL builds them) and the same request body, and
only adds `timeout=` to urlopen and drops the print. A timeout surfaces as TimeoutError / URLError, which
AdminClient.execute maps to StoreUnavailable: the job retries, and our creates look up before they write,
so a create whose answer was lost is not repeated.

The calls share one SSL context: urlopen's default builds one per connection and loads the CA bundle into it,
~20 ms of CPU a call (bench/README.md, "Outbound calls' TLS context"), the most of a failed write-back push.

Global ids: https://shopify.dev/docs/api/usage/gids
"""

from __future__ import annotations

import functools
import json
import ssl
import urllib.request
from typing import Any

import shopify

DEFAULT_TIMEOUT_SECONDS = 10.0


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The context urllib would build for each call (ssl.create_default_context: certificates and host names
    verified, the system's CA store), built once; an SSLContext may serve many connections and threads
    (https://docs.python.org/3/library/ssl.html#ssl-contexts)."""
    return ssl.create_default_context()


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    """urlopen's own opener with our context: urlopen(context=...) would build a new opener per call."""
    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=tls_context()))


# The ShopifyAPI package ships no type information (no py.typed, no stubs), so its classes are Any to mypy and
# subclassing one is a [misc] error under --strict; the attributes used from it are declared below instead.
class TimedGraphQL(shopify.GraphQL):  # type: ignore[misc]
    """shopify.GraphQL whose requests time out after `timeout` seconds (connect and each socket read)."""

    # Set by shopify.GraphQL.__init__ from the active session: .../admin/api/{version}/graphql.json, and the
    # session's headers (X-Shopify-Access-Token among them).
    endpoint: str
    headers: dict[str, str]

    def __init__(self, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        super().__init__()
        self.timeout = timeout

    def execute(self, query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None) -> str:
        headers = self.merge_headers({"Accept": "application/json", "Content-Type": "application/json"}, self.headers)
        data = {"query": query, "variables": variables, "operationName": operation_name}
        # The endpoint is always http(s): built by the package from the shop domain (or a test origin).
        request = urllib.request.Request(self.endpoint, json.dumps(data).encode("utf-8"), headers)  # noqa: S310
        with _opener().open(request, timeout=self.timeout) as response:
            body: bytes = response.read()  # urlopen's answer is Any in typeshed; read() gives the body's bytes
            return body.decode("utf-8")


def gid(resource: str, platform_id: str | int) -> str:
    """gid("Customer", "123") -> "gid://shopify/Customer/123"; a gid passes through unchanged."""
    value = str(platform_id)
    if value.startswith("gid://"):
        return value
    if not value.isdigit():
        raise ValueError(f"not a numeric {resource} id")
    return f"gid://shopify/{resource}/{value}"


def customer_gid(platform_id: str | int) -> str:
    return gid("Customer", platform_id)


def product_gid(platform_id: str | int) -> str:
    return gid("Product", platform_id)


def gid_id(value: str) -> str:
    """The numeric id at the end of a gid ("gid://shopify/Product/7" -> "7")."""
    return value.rsplit("/", 1)[-1].split("?", 1)[0]
