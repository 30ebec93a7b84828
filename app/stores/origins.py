"""A store's own web origins: where its storefront pages are served from, so where its widgets may call us from.

Shopify: https://<shop>.myshopify.com; WooCommerce: the site's own origin (the URL the store was connected with,
else https://<host>); plus the custom domains the merchant lists in Store.settings["storefront"]["origins"].
The storefront's CORS answers (storefront/cors.py) allow exactly these. https://www.rfc-editor.org/rfc/rfc6454
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from app.extensions import db
from app.stores.models import Store, WooStoreState
from app.stores.settings import N_, Field, Section, SettingsError

MAX_LISTED_ORIGINS = 20
LOOPBACK = ("localhost", "127.0.0.1", "::1")


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


def listed_origins(store: Store) -> list[str]:
    """The merchant's extra origins as stored, each checked again as the writer checks it (a hand-edited value
    that is no https origin is left out)."""
    section = (store.settings or {}).get("storefront")
    extra = section.get("origins") if isinstance(section, dict) else None
    return [origin for origin in map(_listed, extra) if origin] if isinstance(extra, list) else []


def allowed_origins(store: Store) -> set[str]:
    candidates: list[str] = [storefront_url(store), *listed_origins(store)]
    return {origin for origin in map(normalise_origin, candidates) if origin}


def _listed(value: Any) -> str | None:
    """An extra origin as the merchant may list it: https://host[:port] exactly, nothing after the authority (a
    browser's Origin never has a path), no wildcard. Their pages send the shopper's token, so https only, but for
    the loopback host of a developer's own machine (a secure context to browsers too:
    https://w3c.github.io/webappsec-secure-contexts/#localhost)."""
    if not isinstance(value, str) or len(value) > 300 or "*" in value:
        return None
    origin = normalise_origin(value)
    if origin is None:
        return None
    if not origin.startswith("https://") and urlsplit(origin).hostname not in LOOPBACK:
        return None
    parts = urlsplit(value.strip())
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        return None
    return origin


def clean_storefront(value: Any) -> dict[str, Any]:
    """Store.settings["storefront"] to store: {"origins": [...]}, each normalised, without duplicates."""
    if not isinstance(value, dict):
        raise SettingsError("must be an object", "storefront")
    unknown = sorted(set(value) - {"origins"})
    if unknown:
        raise SettingsError("unknown setting", f"storefront.{unknown[0]}")
    origins = value.get("origins") or []
    if not isinstance(origins, list):
        raise SettingsError("a list of origins such as https://shop.example", "storefront.origins")
    cleaned: list[str] = []
    for item in origins:
        origin = _listed(item)
        if origin is None:
            raise SettingsError(f"not an https origin (https://host[:port]): {str(item)[:80]!r}", "storefront.origins")
        if origin not in cleaned:
            cleaned.append(origin)
    if len(cleaned) > MAX_LISTED_ORIGINS:
        raise SettingsError(f"at most {MAX_LISTED_ORIGINS} origins", "storefront.origins")
    return {"origins": cleaned}


def show_storefront(store: Store) -> dict[str, Any]:
    return {"origins": listed_origins(store), "allowed": sorted(allowed_origins(store))}


#: Registered by stores' init_app.
SECTION = Section(
    "storefront",
    clean_storefront,
    show_storefront,
    title=N_("Storefront origins"),
    fields=(
        Field(
            "origins",
            N_("Other origins allowed to call the storefront API"),
            "lines",
            N_("One a line, such as https://shop.example; the store's own domain is always allowed."),
        ),
    ),
    order=50,
)
