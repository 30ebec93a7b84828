"""client_for(store): the one place a store's API client is built, for jobs (never services, which do no HTTP).

Jobs call the StoreClient protocol's methods (connectors/writeback.py) on what it returns, whatever the platform:
- Shopify: ShopifyWriteback on the store's access token (refreshed when about to expire, app/stores/shopify_tokens.py),
  at admin_origin() (SHOPIFY_ADMIN_ORIGIN, tests: the stand-in server), timeout SHOPIFY_API_TIMEOUT_SECONDS, its
  calls paced by the shop's cost bucket shared by every worker (app/stores/shopify_pacing.py).
- WooCommerce: WooWriteback on the stored consumer key pair, at the site's REST URL recorded at connect time
  (woo_store_state.api_url), else https://<site>; as app/inbox/woo_upkeep.py builds its client;
  timeout WOO_API_TIMEOUT_SECONDS.
It raises NotConnected when the store is not active or has no usable credentials: a permanent refusal for the caller.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from app.extensions import db
from app.security import secret_box
from app.stores.models import Store
from app.stores.models.woocommerce import WooStoreState
from app.stores.shopify_auth import NotInstalled
from app.stores.shopify_tokens import access_token, admin_origin, pacer, timeout
from connectors.shopify_writeback import ShopifyWriteback
from connectors.woocommerce_writeback import WooWriteback
from connectors.writeback import StoreClient


class NotConnected(Exception):
    """The store is uninstalled or has no credentials we can call it with."""


def client_for(store: Store) -> StoreClient:
    if store.status != "active":
        raise NotConnected("store uninstalled")
    build = _BUILDERS.get(store.platform)
    if build is None:
        raise NotConnected(f"no client for platform {store.platform!r}")
    return build(store)


def _shopify(store: Store) -> ShopifyWriteback:
    try:
        token = access_token(store.id)
    except NotInstalled as exc:
        raise NotConnected(str(exc)) from exc
    return ShopifyWriteback(store.domain, token, origin=admin_origin(), timeout=timeout(), pacer=pacer(store.id))


def _woocommerce(store: Store) -> WooWriteback:
    creds = secret_box().open(store.credentials)
    if not creds.get("consumer_key") or not creds.get("consumer_secret"):
        raise NotConnected("no keys stored")
    state = db.session.get(WooStoreState, store.id)
    url = state.api_url if state is not None else f"https://{store.domain}"
    timeout = float(current_app.config.get("WOO_API_TIMEOUT_SECONDS", 10))
    return WooWriteback(url, creds["consumer_key"], creds["consumer_secret"], timeout=timeout)


_BUILDERS: dict[str, Callable[[Store], StoreClient]] = {"shopify": _shopify, "woocommerce": _woocommerce}
