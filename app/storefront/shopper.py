"""`current_shopper()`: the one answer to "which store, which customer" for every storefront endpoint.

Four ways in, tried in this order by the route guard (guard.py):
- `/proxy/...`: the Shopify app proxy signature (storefront/auth.verify_proxy). Only after it checks
  out are `shop` and `logged_in_customer_id` believed; the shop must be an installed, active store.
- `/api/v1/...` with `Authorization: Bearer <token>` or `X-PPE-Customer-Token`: a WooCommerce customer token,
  checked with the secret of the store its `store` claim names.
- `/api/v1/...` with `Authorization: Bearer <JWT>`: the session token of our Shopify checkout or customer
  account UI extension (extension_token.py), signed with our app secret; the shop is its `dest` claim, the
  customer its `sub` (absent for a guest).
- `/api/v1/...` without a token: anonymous, the store named by its public key (`X-PPE-Store` or `?store=`).
The customer is looked up by platform id *within that store only*: a token or proxy signature for one store can
never reach another store's records.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from flask import current_app, g, request
from sqlalchemy import select
from werkzeug.exceptions import Unauthorized

from app.extensions import db
from app.records.models import Customer
from app.storefront.auth import StorefrontAuthError, check_lifetime, check_signature, read_customer_token, verify_proxy
from app.storefront.extension_token import looks_like_jwt, verify_extension_token
from app.stores import cache as store_cache
from app.stores.cache import StoreRef
from app.stores.models import Store

Via = Literal["shopify_proxy", "woocommerce_token", "shopify_extension", "anonymous"]
_UNSET = object()


def clock() -> float:
    """Epoch seconds; STOREFRONT_CLOCK (a callable) when tests set one."""
    now: Callable[[], float] = current_app.config.get("STOREFRONT_CLOCK") or time.time
    return float(now())


@dataclass
class Shopper:
    ref: StoreRef  # the cached snapshot the door resolved (stores/cache.py); `store` is the ORM row
    via: Via
    customer_platform_id: str | None  # verified; None: anonymous
    prefetched: dict[str, Any] | None = None  # the route's prefetch keys, read after the rate limits (guard.py)
    _customer: object = field(default=_UNSET, repr=False)
    _store: Store | None = field(default=None, repr=False)

    @property
    def logged_in(self) -> bool:
        return self.customer_platform_id is not None

    @property
    def store_id(self) -> int:
        return self.ref.id

    @property
    def store(self) -> Store:
        """The store's row in this request's session, loaded on first use (hot endpoints read `ref` only)."""
        if self._store is None:
            store = db.session.get(Store, self.ref.id)
            if store is None:  # deleted since the snapshot was taken
                raise _refuse("unknown_store")
            self._store = store
        return self._store

    @property
    def customer(self) -> Customer | None:
        """Our record of the logged-in customer (None if anonymous, or if we have never seen them)."""
        if self._customer is _UNSET:
            self._customer = None
            if self.customer_platform_id is not None:
                self._customer = db.session.scalar(
                    select(Customer).where(
                        Customer.store_id == self.ref.id, Customer.platform_id == self.customer_platform_id
                    )
                )
        return self._customer  # type: ignore[return-value]


def current_identity() -> Shopper:
    """The shopper of this request (only inside a storefront route)."""
    shopper = g.get("shopper")
    if shopper is None:
        raise RuntimeError("current_identity() outside a storefront route")
    return shopper


def current_shopper() -> tuple[Store, Customer | None]:
    """(store, customer record or None) for this request: None when anonymous or unknown to us."""
    shopper = current_identity()
    return shopper.store, shopper.customer


def _refuse(reason: str) -> Unauthorized:
    # The reason is a stable key: safe to return and to log (never the credential itself).
    return Unauthorized(description=reason)


def _active(ref: StoreRef | None) -> StoreRef:
    if ref is None or ref.status != "active":
        raise _refuse("unknown_store")
    return ref


def resolve_proxy() -> Shopper:
    cfg = current_app.config
    try:
        claims = verify_proxy(
            request.args.to_dict(flat=False),
            cfg.get("SHOPIFY_API_SECRET") or "",
            now=clock(),
            max_age=float(cfg.get("STOREFRONT_PROXY_MAX_AGE_SECONDS", 300)),
            max_future=float(cfg.get("STOREFRONT_PROXY_MAX_FUTURE_SECONDS", 60)),
        )
    except StorefrontAuthError as exc:
        raise _refuse(str(exc)) from exc
    ref = store_cache.by_domain("shopify", claims.shop.lower())
    return Shopper(ref=_active(ref), via="shopify_proxy", customer_platform_id=claims.customer_id)


def bearer_token(authorization: str, customer_token: str) -> str:
    """The customer token of a request, from its Authorization and X-PPE-Customer-Token headers ("" if none)."""
    if authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return customer_token.strip()


def request_token() -> str:
    return bearer_token(request.headers.get("Authorization", ""), request.headers.get("X-PPE-Customer-Token", ""))


def request_store_key() -> str | None:
    """The public store key the request names (header first), "" if sent empty, None if not sent at all."""
    value = request.headers.get("X-PPE-Store")
    if value is None:
        value = request.args.get("store")
    return None if value is None else value.strip()


def active_by_key(key: str | None) -> StoreRef | None:
    """The active store a public key names, or None (no key, unknown key, inactive store)."""
    ref = store_cache.by_public_key(key) if key else None
    return ref if ref is not None and ref.status == "active" else None


def extension_store() -> StoreRef | None:
    """The active Shopify store a UI extension's preflight names in `?shop=<shop>.myshopify.com` (a preflight
    carries no Authorization header, so the query is all it has), or None."""
    shop = (request.args.get("shop") or "").strip().lower()
    if not shop.endswith(".myshopify.com") or len(shop) > 255:
        return None
    ref = store_cache.by_domain("shopify", shop)
    return ref if ref is not None and ref.status == "active" else None


def store_from_key() -> StoreRef | None:
    """The active store the request's public key names, or None."""
    return active_by_key(request_store_key())


# A widget sends the same token on every page view until it expires, and reading and checking it (base64, JSON,
# HMAC) was a quarter of the balance's CPU in this process (bench/sfprofile.py). Both steps are pure functions of
# their arguments, so their results are kept per process: a token is parsed once, and its signature checked once
# per store secret (a rotated secret is a new key, so a token signed with the old one is checked again and
# refused). Failures raise and are not kept. The lifetime is checked on every call.
_read_token = lru_cache(maxsize=4096)(read_customer_token)
_check_signature = lru_cache(maxsize=4096)(check_signature)


def resolve_direct(token: str, sent_key: str | None) -> Shopper:
    """The shopper of an /api/v1 call from its token and public store key (None: not sent), for the Flask
    guard and the WSGI door (door.py) alike. The token is parsed once: its claims name the store whose secret
    checks it."""
    if not token:
        if not sent_key:
            raise _refuse("store_key_required")
        return Shopper(ref=_active(active_by_key(sent_key)), via="anonymous", customer_platform_id=None)
    if looks_like_jwt(token):
        return resolve_extension(token, sent_key)
    try:
        claims = _read_token(token)
        ref = _active(store_cache.by_domain("woocommerce", claims.store))
        if not ref.secret:
            raise StorefrontAuthError("token.no_secret")
        _check_signature(token, ref.secret)
        check_lifetime(claims, now=clock())  # every time: a token seen before may have expired since
    except StorefrontAuthError as exc:
        raise _refuse(str(exc)) from exc
    # A store key sent alongside, even empty, must name the same store (a widget of store A cannot speak with
    # B's token; a malformed key is not silently ignored).
    if sent_key is not None and sent_key != ref.public_key:
        raise _refuse("token.wrong_store")
    return Shopper(ref=ref, via="woocommerce_token", customer_platform_id=claims.customer_id)


def resolve_extension(token: str, sent_key: str | None) -> Shopper:
    """The shopper of a call from our Shopify UI extensions: their session token names the shop (`dest`) and
    the customer (`sub`); the store must be that shop's, installed and active."""
    cfg = current_app.config
    try:
        claims = verify_extension_token(
            token, client_id=cfg.get("SHOPIFY_API_KEY") or "", secret=cfg.get("SHOPIFY_API_SECRET") or "", now=clock()
        )
    except StorefrontAuthError as exc:
        raise _refuse(str(exc)) from exc
    ref = _active(store_cache.by_domain("shopify", claims.shop))
    if sent_key is not None and sent_key != ref.public_key:
        raise _refuse("token.wrong_store")
    return Shopper(ref=ref, via="shopify_extension", customer_platform_id=claims.customer_id)
