"""A store's own web origins: where its storefront pages are served from, so where its widgets may call us from.

Shopify: https://<shop>.myshopify.com; WooCommerce: the site's own origin (the URL the store was connected with,
else https://<host>); plus the custom domains the merchant lists in Store.settings["storefront"]["origins"].
The storefront's CORS answers (storefront/cors.py) allow exactly these. https://www.rfc-editor.org/rfc/rfc6454
"""

from __future__ import annotations

from urllib.parse import urlsplit

from app.extensions import db
from app.stores.models import Store, WooStoreState


def normalise_origin(value: str) -> str | None:
    """scheme://host[:port] in lower case, default ports dropped; None for anything else (e.g. "null")."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port  # raises for a port that is no number or out of range
    except ValueError:  # also a broken IPv6 literal ("http://[::1"): an Origin header is whatever was sent
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    suffix = f":{port}" if port and port != default else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{suffix}"


def storefront_url(store: Store) -> str:
    """The store's own storefront, absolute (a link in a page or a message must never be resolved against our
    host): Shopify's https://<shop>; WooCommerce's site URL as it was connected, else https://<host>."""
    if store.platform == "shopify":
        return f"https://{store.domain}"
    state = db.session.get(WooStoreState, store.id)
    if state is not None and state.api_url:
        return state.api_url.rstrip("/")
    return f"https://{store.domain.removeprefix('https://').removeprefix('http://').rstrip('/')}"


def allowed_origins(store: Store) -> set[str]:
    candidates: list[str] = [storefront_url(store)]
    extra = ((store.settings or {}).get("storefront") or {}).get("origins") or []
    if isinstance(extra, list):
        candidates.extend(item for item in extra if isinstance(item, str))
    return {origin for origin in map(normalise_origin, candidates) if origin}
