"""Per-process cache of what the storefront door needs to know about a store, for STORE_CACHE_SECONDS.

Every storefront request names its store (public key, WooCommerce token's site key, or app proxy shop) and the
door needs the store's id, status, storefront keys (decrypted), allowed CORS origins and settings. Read from the
database and decrypted on every request, that was four queries and a Fernet decryption per widget call. Here it
is one `StoreRef` per store and process, like the webhook path's store cache (app/inbox/ingest.find_store):
- a change (uninstall, secret rotation, new origins) is seen within STORE_CACHE_SECONDS (default 10; tests set
  0, which turns the cache off);
- only hits are cached, so random keys cannot grow it, and it is bounded (cleared when full);
- lookups stay exact: the public key is compared (constant time) before a ref is cached under it, and the cache
  is keyed by the exact key string, so a wrong key is a miss and goes to the database.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import orjson
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.loyalty.settings import LoyaltySettings, validate_settings
from app.security import secret_box
from app.storefront import cors
from app.stores.models import Store
from app.stores.storefront_keys import PUBLIC_KEY, read_keys

MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class StoreRef:
    """A read-only snapshot of a store for the storefront door (never written back)."""

    id: int
    status: str
    platform: str
    domain: str
    currency: str | None
    public_key: str | None
    secret: str | None
    origins: frozenset[str]
    settings: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def loyalty(self) -> LoyaltySettings:
        """The store's loyalty settings, validated once per snapshot (not per request)."""
        return validate_settings(self.settings.get("loyalty", {}))

    @cached_property
    def fingerprint(self) -> bytes:
        """What a cached balance answer depends on besides the customer's rows (loyalty/balance_cache.py): a
        copy made under other loyalty settings or another currency is not used."""
        raw = orjson.dumps([self.id, self.currency, self.settings.get("loyalty", {})], option=orjson.OPT_SORT_KEYS)
        return hashlib.blake2b(raw, digest_size=8).hexdigest().encode()


_cache: dict[tuple[str, str], tuple[float, StoreRef]] = {}
_lock = threading.Lock()


def snapshot(store: Store) -> StoreRef:
    keys = read_keys(secret_box(), store)
    return StoreRef(
        id=store.id,
        status=store.status,
        platform=store.platform,
        domain=store.domain,
        currency=store.currency,
        public_key=keys.public_key if keys else None,
        secret=keys.secret if keys else None,
        origins=frozenset(cors.allowed_origins(store)),
        settings=dict(store.settings or {}),
    )


def _cached(key: tuple[str, str], load: Any) -> StoreRef | None:
    ttl = float(current_app.config.get("STORE_CACHE_SECONDS") or 0)
    now = time.monotonic()
    hit = _cache.get(key) if ttl > 0 else None
    if hit is not None and hit[0] > now:
        return hit[1]
    ref = load()
    if ref is not None and ttl > 0:
        with _lock:
            if len(_cache) >= MAX_ENTRIES:
                _cache.clear()
            _cache[key] = (now + ttl, ref)
    return ref


def by_public_key(public_key: str) -> StoreRef | None:
    """The store a public key names (active or not: callers check), or None."""

    def load() -> StoreRef | None:
        match = PUBLIC_KEY.fullmatch(public_key or "")
        store = db.session.get(Store, int(match.group(1))) if match else None
        ref = snapshot(store) if store is not None else None
        if ref is None or ref.public_key is None:
            return None
        return ref if hmac.compare_digest(ref.public_key.encode(), public_key.encode()) else None

    return _cached(("key", public_key), load)


def by_domain(platform: str, domain: str) -> StoreRef | None:
    def load() -> StoreRef | None:
        store = db.session.scalar(select(Store).where(Store.platform == platform, Store.domain == domain))
        return snapshot(store) if store is not None else None

    return _cached((platform, domain), load)


def forget_all() -> None:
    with _lock:
        _cache.clear()
