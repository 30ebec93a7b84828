"""CORS for /api/v1: only the store's own storefront origins may call it from a browser.

Allowed origins of a store: Shopify, https://<shop>.myshopify.com; WooCommerce, the site's own origin (the
URL the store was connected with, else https://<host>); plus the custom domains the merchant lists in
Store.settings["storefront"]["origins"]. A browser's preflight carries the query string but none of our
headers, so a widget names its store in the query (`?store=<public key>`) for preflighted calls. Tokens travel
in headers (never cookies), so we never send Access-Control-Allow-Credentials.
https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/CORS
"""

from __future__ import annotations

from app.stores.origins import normalise_origin

# Idempotency-Key: the widget sends one with every redemption (POST /me/redemptions), so a retry cannot redeem twice.
# Cache-Control: the widget's no-cache read after its own write (guard.no_cache).
ALLOWED_HEADERS = "Authorization, Cache-Control, Content-Type, Idempotency-Key, X-PPE-Customer-Token, X-PPE-Store"
EXPOSED_HEADERS = "Retry-After"
MAX_AGE_SECONDS = "600"


def origin_allowed(origins: frozenset[str], origin: str) -> bool:
    """`origins`: the store's allowed_origins, as the door's store snapshot holds them (stores/cache.StoreRef)."""
    normalised = normalise_origin(origin)
    return normalised is not None and normalised in origins
