"""`@storefront_route`: how every feature adds a storefront endpoint, and the OpenAPI document built from them.

One decorator registers a view twice: `/api/v1<path>` (WooCommerce token, or anonymous with the public store
key; CORS applies) and `/proxy/api/v1<path>` (the Shopify app proxy forwards https://<shop>/apps/<prefix>/...
to /proxy/...; same-origin for the browser, so no CORS). The wrapper resolves the shopper, enforces `auth`,
the body cap and the rate limits before the view runs; views read `current_shopper()` / `current_identity()`.

Each route carries its OpenAPI pieces (summary, response schema, request body schema, query parameters), so
`GET /api/v1/openapi.json` always describes exactly what is registered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Literal

from app.storefront.copies import Kept

Auth = Literal["any", "customer"]
API_PREFIX = "/api/v1"
PROXY_PREFIX = "/proxy/api/v1"


@dataclass(frozen=True)
class RouteSpec:
    path: str  # Flask rule below the prefix, e.g. "/reviews/<product_id>"
    methods: tuple[str, ...]
    auth: Auth
    endpoint: str
    summary: str = ""
    response: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    request: dict[str, Any] | None = None  # JSON body schema (POST/PUT/PATCH)
    query: tuple[dict[str, Any], ...] = ()  # OpenAPI parameter objects (in: query)
    public: bool = True  # listed in the OpenAPI document
    max_body: int | None = None  # body cap for this route (default STOREFRONT_MAX_BODY_BYTES), e.g. photo uploads
    status: int = 200  # the success status (201 for a creation)
    path_params: tuple[tuple[str, dict[str, Any]], ...] = ()  # schemas of path parameters (default: string)
    errors: tuple[tuple[str, str], ...] = ()  # route-specific error statuses and their meaning (409, 410...)
    # Redis keys the view will read, from (shopper, view kwargs): fetched in the rate limiter's round trip.
    prefetch: Callable[[Any, dict[str, Any]], tuple[str, ...]] | None = None
    # door=True routes: (shopper, **path params) -> the 200 answer's JSON data, with no Flask request; the WSGI
    # door (door.py) calls it for /api/v1 GETs, the Flask view wraps it for everything else.
    answer: Callable[..., Any] | None = None
    # Door routes only: this process keeps the answers and gives them again while current (storefront/copies.py).
    kept: Kept | None = None


#: Every registered route, in registration order (read by openapi.build_document).
ROUTES: list[RouteSpec] = []
#: Named component schemas features share (referenced as {"$ref": "#/components/schemas/<name>"}).
SCHEMAS: dict[str, dict[str, Any]] = {}


def register_schema(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Add a component schema; returns the $ref to use in a route's response or request."""
    SCHEMAS[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}


def storefront_route(
    path: str,
    methods: list[str] | tuple[str, ...] = ("GET",),
    *,
    auth: Auth = "any",
    summary: str = "",
    response: dict[str, Any] | None = None,
    request: dict[str, Any] | None = None,
    query: list[dict[str, Any]] | tuple[dict[str, Any], ...] = (),
    public: bool = True,
    max_body: int | None = None,
    status: int = 200,
    path_params: dict[str, dict[str, Any]] | None = None,
    errors: dict[str, str] | None = None,
    prefetch: Callable[[Any, dict[str, Any]], tuple[str, ...]] | None = None,
    door: bool = False,
    kept: Kept | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `view` at /api/v1<path> and /proxy/api/v1<path>.

    auth="any": anonymous callers get the view too (public data only); auth="customer": a verified logged-in
    customer is required (401 otherwise); the customer's record may still be None if we never saw an order.
    OpenAPI only: `status` (the success status), `path_params` (schemas of path parameters, so generated
    clients and schemathesis send valid ones), `errors` (route-specific error statuses). `max_body` raises the
    body cap for one route (uploads). `prefetch`: (shopper, kwargs) -> the Redis keys the view reads (a cache),
    fetched in the same round trip as the rate limits; the view finds them in `current_identity().prefetched`.
    `door=True` (GET, plain `<name>` path parameters only): the decorated function is not a Flask view but
    `(shopper, **path params) -> JSON data` (the 200 answer, orjson; or bytes already JSON), which the WSGI door
    serves without Flask; it reads nothing from Flask's request or `g` and raises werkzeug exceptions to refuse.
    `kept` (door routes): the process keeps the answers the function returns as `copies.Lasting` (copies.py).
    """
    if not path.startswith("/"):
        raise ValueError("storefront paths start with /")
    if auth not in ("any", "customer"):
        raise ValueError(f"unknown auth {auth!r}")
    if door and (
        tuple(m.upper() for m in methods) != ("GET",) or re.search(r"<[a-z_]+:", path) or status != 200 or max_body
    ):
        raise ValueError("door routes are GET, 200, default body cap, plain <name> parameters")
    if kept is not None and not door:
        raise ValueError("kept answers are door routes' (an answer function, no Flask request)")

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        from app.storefront import bp
        from app.storefront.guard import guarded

        view = _door_view(func) if door else func
        endpoint = view.__name__
        if any(spec.endpoint == endpoint for spec in ROUTES):
            raise ValueError(f"storefront endpoint {endpoint!r} registered twice")
        spec = RouteSpec(
            path=path,
            methods=tuple(m.upper() for m in methods),
            auth=auth,
            endpoint=endpoint,
            summary=summary or (view.__doc__ or "").strip().split("\n")[0],
            response=response or {"type": "object"},
            request=request,
            query=tuple(query),
            public=public,
            max_body=max_body,
            status=status,
            path_params=tuple((path_params or {}).items()),
            errors=tuple((errors or {}).items()),
            prefetch=prefetch,
            answer=func if door else None,
            kept=kept,
        )
        ROUTES.append(spec)
        # OPTIONS is ours (CORS preflight), not Flask's automatic answer.
        api_methods = [*spec.methods, "OPTIONS"]
        bp.add_url_rule(API_PREFIX + path, endpoint, guarded(view, spec, proxied=False), methods=api_methods)
        bp.add_url_rule(
            PROXY_PREFIX + path, "proxy_" + endpoint, guarded(view, spec, proxied=True), methods=list(spec.methods)
        )
        return func

    return decorator


def _door_view(answer: Callable[..., Any]) -> Callable[..., Any]:
    """The Flask view of a door route (the proxy, OPTIONS, HEAD and whatever the door passes on to Flask): the
    guard calls the answer function through copies.serve, as the door does; this only names the endpoint."""

    @wraps(answer)
    def view(**kwargs: Any) -> Any:
        raise AssertionError("guard.guarded serves door routes")

    return view


def openapi_path(rule: str) -> tuple[str, list[str]]:
    """A Flask rule as an OpenAPI path template, and its path parameter names."""
    names: list[str] = []

    def repl(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return "{" + match.group(1) + "}"

    return re.sub(r"<(?:[a-z_]+:)?([A-Za-z_][A-Za-z0-9_]*)>", repl, rule), names
