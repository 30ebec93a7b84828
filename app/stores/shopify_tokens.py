"""A Shopify store's tokens and Admin API clients: the one place they are built.

`access_token(store_id)` gives a valid offline token, refreshed once (whoever else asks) when about to expire
(stores/shopify_auth.get_access_token); `admin_client(store)` an Admin GraphQL client on it, with the timeout
SHOPIFY_API_TIMEOUT_SECONDS and the shop's cost-bucket pacer (stores/shopify_pacing.py) every Shopify call
shares; `token_client()` the OAuth/token-exchange client of the install flow. The install flow
(shopify_install.py) and the write-back clients (clients.py) both build on these, so neither imports the other.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.platform.queue import get_redis
from app.security import secret_box
from app.stores import shopify_auth as auth
from app.stores.models import Store
from app.stores.shopify_pacing import RedisPacer
from connectors.shopify_admin import AdminClient, TokenClient


def clock() -> float:
    """The app's clock: SHOPIFY_CLOCK (a callable returning epoch seconds) when tests set one."""
    now: Callable[[], float] = current_app.config.get("SHOPIFY_CLOCK") or time.time
    return float(now())


def verified_shop(token: str) -> str:
    """The shop an App Bridge session token speaks for, checked with the app's key and secret at the app's clock
    (shopify_auth.verify_session_token; raises InstallRefused)."""
    cfg = current_app.config
    return auth.verify_session_token(
        token, api_key=cfg.get("SHOPIFY_API_KEY", ""), api_secret=cfg.get("SHOPIFY_API_SECRET") or "", now=clock()
    )


def shop_store(shop: str) -> Store | None:
    """Our store row for a Shopify shop domain (any status)."""
    return db.session.scalar(select(Store).where(Store.platform == "shopify", Store.domain == shop))


def installed(store: Store | None) -> bool:
    """An active store we hold an offline token for (else the embedded app's first load exchanges one)."""
    return store is not None and store.status == "active" and auth.has_token(secret_box(), store)


def admin_origin() -> str | None:
    """Where Shopify's Admin API is reached: None in production (https://{shop}); tests set the stand-in's origin."""
    return current_app.config.get("SHOPIFY_ADMIN_ORIGIN") or None


def timeout() -> float:
    return float(current_app.config.get("SHOPIFY_API_TIMEOUT_SECONDS", 10))


def pacer(store_id: int | None = None) -> RedisPacer | None:
    """The Shopify call pacer on the app's Redis; waits of up to SHOPIFY_PACE_MAX_WAIT_SECONDS are sat through.
    None (calls unpaced, Shopify's THROTTLED answers still retried) when Redis cannot even be reached."""
    try:
        redis = get_redis()
    except Exception:  # noqa: BLE001  (as access_token: Redis down must not stop a call to Shopify)
        return None
    return RedisPacer(redis, max_wait=float(current_app.config["SHOPIFY_PACE_MAX_WAIT_SECONDS"]), store_id=store_id)


def token_client() -> TokenClient:
    cfg = current_app.config
    return TokenClient(cfg.get("SHOPIFY_API_KEY", ""), cfg.get("SHOPIFY_API_SECRET") or "", origin=admin_origin())


def access_token(store_id: int) -> str:
    """A valid token for the store, refreshed (once, whoever else asks) when about to expire."""
    try:
        redis = get_redis()
    except Exception:  # noqa: BLE001  (Redis down: the PostgreSQL row lock still serialises refreshes)
        redis = None
    return auth.get_access_token(
        db.engine,
        secret_box(),
        store_id,
        token_client().refresh,
        now=clock,
        margin=float(current_app.config.get("SHOPIFY_TOKEN_REFRESH_MARGIN_SECONDS", 300)),
        redis=redis,
    )


def admin_client(store: Store) -> AdminClient:
    """The Admin GraphQL client for a store (the install flow's calls: shop details, webhook clean-up)."""
    return AdminClient(
        store.domain, access_token(store.id), origin=admin_origin(), timeout=timeout(), pacer=pacer(store.id)
    )
