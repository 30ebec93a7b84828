"""Write-back clients for a store, built in jobs (never in services, which do no HTTP).

- Shopify: ShopifyWriteback on the store's access token (refreshed when about to expire, app/stores/shopify_install.py),
  at SHOPIFY_ADMIN_ORIGIN when set (tests: the stand-in server).
- WooCommerce: WooWriteback on the stored consumer key pair, at the site's REST URL recorded at connect time
  (woo_store_state.api_url), else https://<site>; as app/stores/woo_maintenance.py builds its client.
Both raise NotConnected when the store has no usable credentials: a permanent refusal for the caller.
"""

from __future__ import annotations

from flask import current_app

from app.extensions import db
from app.security import secret_box
from app.stores.models import Store
from app.stores.models.woocommerce import WooStoreState
from app.stores.shopify_auth import NotInstalled
from connectors.shopify_writeback import ShopifyWriteback
from connectors.woocommerce_writeback import WooWriteback


class NotConnected(Exception):
    """The store is uninstalled or has no credentials we can call it with."""


def shopify_client(store: Store) -> ShopifyWriteback:
    from app.stores.shopify_install import access_token

    if store.status != "active":
        raise NotConnected("store uninstalled")
    try:
        token = access_token(store.id)
    except NotInstalled as exc:
        raise NotConnected(str(exc)) from exc
    timeout = float(current_app.config.get("SHOPIFY_API_TIMEOUT_SECONDS", 10))
    origin = current_app.config.get("SHOPIFY_ADMIN_ORIGIN") or None
    return ShopifyWriteback(store.domain, token, origin=origin, timeout=timeout)


def woo_client(store: Store) -> WooWriteback:
    if store.status != "active":
        raise NotConnected("store uninstalled")
    creds = secret_box().open(store.credentials)
    if not creds.get("consumer_key") or not creds.get("consumer_secret"):
        raise NotConnected("no keys stored")
    state = db.session.get(WooStoreState, store.id)
    url = state.api_url if state is not None else f"https://{store.domain}"
    timeout = float(current_app.config.get("WOO_API_TIMEOUT_SECONDS", 10))
    return WooWriteback(url, creds["consumer_key"], creds["consumer_secret"], timeout=timeout)
