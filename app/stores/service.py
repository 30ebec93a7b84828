"""Stores: registration, credentials and install state."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.platform.types import utcnow
from app.security import SecretBox
from app.stores.models import Store
from connectors.woocommerce import site_key

#: A permanent Shopify shop domain, the one pattern every check of a shop uses (install, CLI):
#: https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant
SHOP_DOMAIN = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com")


class StoreError(InvalidInput, ValueError):
    """Bad input for a store operation (a CLI or API turns it into a message)."""

    code = "store_invalid"


def normalise_domain(platform: str, domain: str) -> str:
    if platform == "shopify":
        shop = domain.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
        if len(shop) > 255 or not SHOP_DOMAIN.fullmatch(shop):
            raise StoreError(f"{domain!r} is not a <shop>.myshopify.com domain")
        return shop
    if platform == "woocommerce":
        key = site_key(domain)
        if not key:
            raise StoreError(f"{domain!r} is not a site URL")
        return key
    raise StoreError(f"unknown platform {platform!r}")


def find_store(session: Session, ref: str) -> Store | None:
    """A store by numeric id or by domain / site URL."""
    if ref.isdigit():
        return session.get(Store, int(ref))
    for platform in ("shopify", "woocommerce"):
        try:
            domain = normalise_domain(platform, ref)
        except StoreError:
            continue
        store = session.scalar(select(Store).where(Store.platform == platform, Store.domain == domain))
        if store is not None:
            return store
    return None


def add_store(
    session: Session,
    box: SecretBox,
    platform: str,
    domain: str,
    credentials: dict[str, Any],
    *,
    name: str | None = None,
    currency: str | None = None,
) -> Store:
    """Create the store, or update and reactivate it (a reinstall keeps its data)."""
    domain = normalise_domain(platform, domain)
    store = session.scalar(select(Store).where(Store.platform == platform, Store.domain == domain))
    if store is None:
        store = Store(platform=platform, domain=domain, settings={})
        session.add(store)
    merged = {**box.open(store.credentials), **{k: v for k, v in credentials.items() if v}}
    store.credentials = box.seal(merged) if merged else None
    store.name = name or store.name or domain
    if currency:
        store.currency = currency.upper()
    store.status = "active"
    store.installed_at = utcnow()
    store.uninstalled_at = None
    session.flush()
    return store


def mark_uninstalled(session: Session, store: Store, _event: object = None) -> None:
    """app/uninstalled: stop acting for the store; its data stays until shop/redact."""
    if store.status != "uninstalled":
        store.status = "uninstalled"
        store.uninstalled_at = utcnow()
        session.flush()
