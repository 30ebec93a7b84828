"""The door in front of every storefront view: body cap, who is calling, origin, auth level, rate limits.

Order matters and is cheap-first: the body cap needs nothing; identity needs an HMAC and one store read (the
customer record is only read if a view asks); limits need the store. Failures are werkzeug exceptions, which
the blueprint's handler turns into JSON (`{"error": ..., "message": ...}`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import Response, current_app, g, request
from werkzeug.exceptions import Forbidden, RequestEntityTooLarge, TooManyRequests, Unauthorized

from app.storefront import bp, copies, cors, json_answer, limits
from app.storefront.shopper import (
    Shopper,
    extension_store,
    request_store_key,
    request_token,
    resolve_direct,
    resolve_proxy,
    store_from_key,
)

if TYPE_CHECKING:  # annotations only: the registry imports this module to wrap its views
    from app.storefront.registry import RouteSpec

DEFAULT_MAX_BODY_BYTES = 64 * 1024


def _cap_body(spec: RouteSpec) -> None:
    cap = spec.max_body or int(current_app.config.get("STOREFRONT_MAX_BODY_BYTES") or DEFAULT_MAX_BODY_BYTES)
    # Also caps bodies without a Content-Length (chunked): werkzeug stops reading at the cap and answers 413.
    request.max_content_length = cap
    if request.content_length is not None and request.content_length > cap:
        raise RequestEntityTooLarge(description=f"request bodies are limited to {cap} bytes")


@dataclass
class Caller:
    """What the guard reads from a request: from Flask's `request`, or from the WSGI environ (door.py)."""

    proxied: bool
    origin: str | None  # the Origin header (None: not a browser cross-origin call)
    remote_addr: str | None
    cors_origin: str | None = None  # set once the Origin passed: from then on every answer carries CORS headers
    revalidate: bool = False  # Cache-Control: no-cache (the widget after its own write): no process copy
    lookup: copies.Lookup | None = None  # a kept route's copy lookup (copies.py); None: it may not use one


def no_cache(value: str | None) -> bool:
    """A request's Cache-Control asks for an answer checked against the origin (RFC 9111 5.2.1.4): the
    widget's read right after its own redemption. Then no process copy (local_state.py) answers: the balance
    comes from the database, a review summary from its Redis copy (exact by its version) or the database."""
    return value is not None and "no-cache" in value.lower()


def _client_key(shopper: Shopper, caller: Caller) -> str | None:
    if shopper.customer_platform_id is not None:
        return "c:" + shopper.customer_platform_id
    # Behind the app proxy the connecting address is Shopify's, shared by every shopper of every store, so
    # anonymous proxy traffic is only capped per store. Direct calls: the client address (deployments behind
    # a load balancer wrap the app in werkzeug's ProxyFix so this is the browser's address).
    return None if caller.proxied else "ip:" + (caller.remote_addr or "unknown")


def _enforce_limits(store_id: int, client: str | None, reads: limits.Reads | None = None) -> dict[str, Any] | None:
    retry_after, fetched = limits.check(store_id, client, reads)
    if retry_after is not None:
        raise TooManyRequests(description="rate limit exceeded", retry_after=retry_after)
    return fetched


def _check_origin(shopper: Shopper, caller: Caller) -> None:
    ref = shopper.ref
    if caller.origin is None:
        return  # not a browser cross-origin call (server-side, curl): CORS does not apply
    if shopper.via == "shopify_extension":
        # UI extensions run in a sandboxed web worker Shopify hosts ("extensions running in a sandboxed web
        # worker", https://shopify.dev/docs/api/checkout-ui-extensions/latest/target-apis/checkout-apis/order-api
        # on SubscribableSignalLike), and Shopify documents no fixed origin to list; its network-access section
        # (https://shopify.dev/docs/apps/build/checkout/capabilities#network-access) is where its CORS advice
        # lives, which we could not read verbatim (docs/shopify-extensions.md, "CORS"). We answer `*`: CORS allows
        # the wildcard for calls without credentials (https://developer.mozilla.org/docs/Web/HTTP/Headers/
        # Access-Control-Allow-Origin), and ours carry none: the session token, in a header, is the credential,
        # so any page may read only what the token's holder may read.
        caller.cors_origin = "*"
        return
    if not cors.origin_allowed(ref.origins, caller.origin):
        raise Forbidden(description="origin_not_allowed")
    caller.cors_origin = caller.origin


def admit(spec: RouteSpec, caller: Caller, shopper: Shopper, kwargs: dict[str, Any]) -> Shopper:
    """After the shopper is resolved: origin, auth level, rate limits (with the route's prefetch). The one
    sequence for the Flask views (guarded) and the WSGI door; raises the refusal as a werkzeug exception."""
    if not caller.proxied:
        _check_origin(shopper, caller)
    if spec.auth == "customer" and not shopper.logged_in:
        raise Unauthorized(description="customer_login_required")
    prefetch = spec.prefetch

    fresh = caller.revalidate

    def reads(view_fresh: bool) -> tuple[str, ...]:
        if spec.kept is not None and view_fresh and not fresh:
            caller.lookup = copies.look(spec.kept, shopper, kwargs)
            if caller.lookup.body is not None:
                return ()  # answered from the copy: nothing to read
        return prefetch(shopper, kwargs) if prefetch else ()

    shopper.prefetched = _enforce_limits(shopper.ref.id, _client_key(shopper, caller), reads)
    return shopper


def _extension_preflight(origin: str | None) -> int | None:
    """The store id to count a UI extension's preflight under (0: no shop named), or None if it is not one.

    A preflight carries no Authorization header (Fetch standard), so an extension's cannot show its session
    token; it names no store key, asks to send Authorization, and may name its shop (`?shop=`, the Thank-you
    and Order status blocks know it; the full page does not). The answer only lets the browser send the real
    request, which the token must then carry."""
    asked = (request.headers.get("Access-Control-Request-Headers") or "").lower()
    if origin is None or request_store_key() is not None or "authorization" not in asked:
        return None
    store = extension_store()
    return store.id if store is not None else 0


def _preflight(spec: RouteSpec) -> Response:
    origin = request.headers.get("Origin")
    wanted = (request.headers.get("Access-Control-Request-Method") or "").upper()
    extension = _extension_preflight(origin)
    store = store_from_key()
    if extension is None and (store is None or origin is None or not cors.origin_allowed(store.origins, origin)):
        raise Forbidden(description="origin_not_allowed")
    if wanted and wanted not in spec.methods:
        raise Forbidden(description="method_not_allowed")
    store_id = extension if extension is not None else store.id  # type: ignore[union-attr]
    _enforce_limits(store_id, "ip:" + (request.remote_addr or "unknown"))
    g.storefront_origin = "*" if extension is not None else origin
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = ", ".join(spec.methods)
    response.headers["Access-Control-Allow-Headers"] = cors.ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = cors.MAX_AGE_SECONDS
    return response


def guarded(view: Callable[..., Any], spec: RouteSpec, *, proxied: bool) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # g lives in the app context, which a caller (a test, a CLI) may share between requests: start clean.
        g.pop("storefront_origin", None)
        g.pop("shopper", None)
        _cap_body(spec)
        if request.method == "OPTIONS" and not proxied:
            return _preflight(spec)
        caller = Caller(proxied, request.headers.get("Origin"), request.remote_addr)
        caller.revalidate = no_cache(request.headers.get("Cache-Control"))
        try:
            shopper = resolve_proxy() if proxied else resolve_direct(request_token(), request_store_key())
            g.shopper = admit(spec, caller, shopper, kwargs)
        finally:
            if caller.cors_origin:
                g.storefront_origin = caller.cors_origin
        if spec.answer is not None:  # a door route: the answer function, as the door serves it (door.py)
            return json_answer(copies.serve(spec, caller.lookup, g.shopper, kwargs))
        return view(*args, **kwargs)

    return wrapper


def cors_headers(response: Response, origin: str | None) -> Response:
    """Answers (errors included) to an allowed origin carry the CORS headers; every answer varies by Origin."""
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = cors.EXPOSED_HEADERS
    response.vary.add("Origin")
    return response


def add_cors_headers(response: Response) -> Response:
    """after_request of the storefront blueprint (the door calls cors_headers itself)."""
    return cors_headers(response, g.get("storefront_origin"))


bp.after_request(add_cors_headers)
