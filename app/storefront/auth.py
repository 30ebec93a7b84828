"""Who a storefront caller is: Shopify app proxy signatures and WooCommerce signed customer tokens.

Pure functions (no request, no database): the blueprint (app/storefront/shopper.py) feeds them the query, the
token and the clock, and looks the store up itself.

Shopify app proxy: Shopify signs every forwarded request. The message is every query parameter except
`signature`, as `key=value` with the values of a repeated key joined by `,`, sorted, concatenated with no
separator; the signature is its hex HMAC-SHA256 under the app's client secret:
https://shopify.dev/docs/apps/build/online-store/app-proxies/authenticate-app-proxies
`logged_in_customer_id` is empty for anonymous shoppers:
https://shopify.dev/changelog/app-proxy-requests-include-new-parameter-for-the-logged-in-customer-id

WooCommerce has no such proxy, so the store's WordPress side mints a short-lived token for the logged-in
customer (the scheme is in README.md, "Storefront API"):
    base64url(JSON {"store": <site key>, "cid": "<customer id>", "exp": <unix seconds>})
    + "." + base64url(HMAC-SHA256(storefront secret, <that first part as ASCII>))
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.errors import Unauthenticated
from connectors.woocommerce import site_key

#: A token may be valid for at most this long (the minting side uses shorter lifetimes).
TOKEN_MAX_LIFETIME_SECONDS = 3600
#: Clock difference tolerated between the store's server and ours when checking that limit.
TOKEN_CLOCK_SKEW_SECONDS = 60
_TOKEN_MAX_CHARS = 1024
_CUSTOMER_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
_HEX64 = re.compile(r"[0-9a-f]{64}")


class StorefrontAuthError(Unauthenticated, ValueError):
    """A credential that must not be trusted (the message is a stable reason key, safe to log)."""


@dataclass(frozen=True)
class ProxyClaims:
    shop: str
    customer_id: str | None  # None: no shopper logged in
    timestamp: int


@dataclass(frozen=True)
class TokenClaims:
    store: str  # the WooCommerce site key (connectors.woocommerce.site_key)
    customer_id: str
    expires_at: int


def proxy_message(params: Iterable[tuple[str, list[str]]]) -> bytes:
    """The string Shopify signs: sorted `key=v1,v2` pairs of every parameter but `signature`, no separator."""
    pairs = sorted(f"{key}={','.join(values)}" for key, values in params if key != "signature")
    return "".join(pairs).encode()


def proxy_signature(params: Iterable[tuple[str, list[str]]], secret: str) -> str:
    return hmac.new(secret.encode(), proxy_message(params), hashlib.sha256).hexdigest()


def verify_proxy(
    params: Mapping[str, list[str]], secret: str, *, now: float, max_age: float = 300, max_future: float = 60
) -> ProxyClaims:
    """Check an app proxy query (every key with all its values, as forwarded) and return what it vouches for."""
    if not secret:
        raise StorefrontAuthError("proxy.no_secret")
    signatures = params.get("signature") or []
    if len(signatures) != 1 or not _HEX64.fullmatch(signatures[0]):
        raise StorefrontAuthError("proxy.no_signature")
    expected = proxy_signature(params.items(), secret)
    if not hmac.compare_digest(expected.encode(), signatures[0].encode()):
        raise StorefrontAuthError("proxy.bad_signature")
    shop = _single(params, "shop")
    stamp = _single(params, "timestamp")
    if not shop or not stamp or not stamp.isdigit():
        raise StorefrontAuthError("proxy.missing_parameter")
    timestamp = int(stamp)
    # A signed URL can be replayed as long as it is accepted, so the window is short; a little future is
    # tolerated for clock differences between Shopify and us.
    if now - timestamp > max_age or timestamp - now > max_future:
        raise StorefrontAuthError("proxy.stale")
    customer = _single(params, "logged_in_customer_id")
    if customer and not _CUSTOMER_ID.fullmatch(customer):
        raise StorefrontAuthError("proxy.bad_customer")
    return ProxyClaims(shop=shop, customer_id=customer or None, timestamp=timestamp)


def _single(params: Mapping[str, list[str]], key: str) -> str:
    values = params.get(key) or []
    if len(values) > 1:
        raise StorefrontAuthError("proxy.repeated_parameter")
    return values[0] if values else ""


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", text):
        raise StorefrontAuthError("token.malformed")
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError) as exc:
        raise StorefrontAuthError("token.malformed") from exc


def mint_customer_token(store: str, customer_id: str, secret: str, *, expires_at: int) -> str:
    """What the store's PHP side does (here for tests, tools and the documentation's reference)."""
    body = _b64encode(json.dumps({"store": store, "cid": customer_id, "exp": expires_at}).encode())
    signature = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64encode(signature)}"


def read_customer_token(token: str) -> TokenClaims:
    """The claims of a token, NOT yet verified: they only say which store's secret to check it with."""
    if len(token) > _TOKEN_MAX_CHARS or token.count(".") != 1:
        raise StorefrontAuthError("token.malformed")
    body, _signature = token.split(".")
    try:
        claims = json.loads(_b64decode(body))
    except (UnicodeDecodeError, ValueError) as exc:
        raise StorefrontAuthError("token.malformed") from exc
    if not isinstance(claims, dict):
        raise StorefrontAuthError("token.malformed")
    store, cid, exp = claims.get("store"), claims.get("cid"), claims.get("exp")
    if not isinstance(store, str) or not isinstance(cid, str) or type(exp) is not int:
        raise StorefrontAuthError("token.malformed")
    try:
        site = site_key(store)
    except ValueError as exc:  # not a URL urlsplit can read (a port out of range, a broken IPv6 literal)
        raise StorefrontAuthError("token.malformed") from exc
    if not _CUSTOMER_ID.fullmatch(cid) or not site:
        raise StorefrontAuthError("token.malformed")
    return TokenClaims(store=site, customer_id=cid, expires_at=exp)


def verify_customer_token(token: str, secret: str, *, now: float) -> TokenClaims:
    """Check the signature (constant time) and the lifetime; return the claims. (The storefront calls the three
    steps itself: it reads the claims first to find the store whose secret checks them, and keeps the pure
    steps' results per process, app/storefront/shopper.py.)"""
    claims = read_customer_token(token)
    check_signature(token, secret)
    return check_lifetime(claims, now=now)


def check_signature(token: str, secret: str) -> None:
    """The token's HMAC under the store's secret, compared in constant time; raises if it does not match."""
    body, signature = token.split(".")
    expected = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    if not secret or not hmac.compare_digest(expected, _b64decode(signature)):
        raise StorefrontAuthError("token.bad_signature")


def check_lifetime(claims: TokenClaims, *, now: float) -> TokenClaims:
    """Not expired, and not issued for longer than the scheme allows."""
    if claims.expires_at <= now:
        raise StorefrontAuthError("token.expired")
    if claims.expires_at > now + TOKEN_MAX_LIFETIME_SECONDS + TOKEN_CLOCK_SKEW_SECONDS:
        raise StorefrontAuthError("token.lifetime_too_long")
    return claims
