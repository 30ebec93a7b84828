"""CORS for /api/v1: only the store's own storefront origins may call it from a browser.

Allowed origins of a store: Shopify, https://<shop>.myshopify.com; WooCommerce, the site's own origin (the
URL the store was connected with, else https://<host>); plus the custom domains the merchant lists in
Store.settings["storefront"]["origins"]. A browser's preflight carries the query string but none of our
headers, so a widget names its store in the query (`?store=<public key>`) for preflighted calls. Tokens travel
in headers (never cookies), so we never send Access-Control-Allow-Credentials.
https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/CORS
"""

from __future__ import annotations

from urllib.parse import urlsplit

from app.extensions import db
from app.stores.models import Store, WooStoreState

# Idempotency-Key: the widget sends one with every redemption (POST /me/redemptions), so a retry cannot redeem twice.
# Cache-Control: the widget's no-cache read after its own write (guard.no_cache).
ALLOWED_HEADERS = "Authorization, Cache-Control, Content-Type, Idempotency-Key, X-PPE-Customer-Token, X-PPE-Store"
EXPOSED_HEADERS = "Retry-After"
MAX_AGE_SECONDS = "600"


def normalise_origin(value: str) -> str | None:
    """scheme://host[:port] in lower case, default ports dropped; None for anything else (e.g. "null")."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    default = 443 if parts.scheme == "https" else 80
    suffix = f":{port}" if port and port != default else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{suffix}"


def allowed_origins(store: Store) -> set[str]:
    candidates: list[str] = []
    if store.platform == "shopify":
        candidates.append(f"https://{store.domain}")
    else:
        state = db.session.get(WooStoreState, store.id)
        candidates.append(state.api_url if state is not None and state.api_url else f"https://{store.domain}")
    extra = ((store.settings or {}).get("storefront") or {}).get("origins") or []
    if isinstance(extra, list):
        candidates.extend(item for item in extra if isinstance(item, str))
    return {origin for origin in map(normalise_origin, candidates) if origin}


def origin_allowed(origins: frozenset[str], origin: str) -> bool:
    """`origins`: the store's allowed_origins, as the door's store snapshot holds them (store_cache.StoreRef)."""
    normalised = normalise_origin(origin)
    return normalised is not None and normalised in origins
