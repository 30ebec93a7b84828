"""Per-process snapshots of stores for the doors, for STORE_CACHE_SECONDS: one `StoreRef` per store and process.

Every webhook names its store by platform and domain (Shopify's X-Shopify-Shop-Domain, WooCommerce's
X-WC-Webhook-Source), and every storefront request by its public key, its WooCommerce token's site or its app
proxy shop. The doors need the store's id and status, the WooCommerce webhook secret, the storefront keys, the
allowed CORS origins and the settings: read and decrypted once per store and process, not once per request.
- a change (uninstall, secret rotation, new origins) is seen within STORE_CACHE_SECONDS (default 10; tests set 0,
  which turns the cache off), and at once in the process that made it (`forget_store`; a committed change of a
  Store row drops its snapshots by itself, `install`);
- the cache is bounded (cleared when full); a storefront lookup caches hits only, so random keys cannot churn
  it, while the webhook door also remembers unknown domains for the interval (a stream of deliveries for an
  uninstalled shop costs one query per interval);
- lookups stay exact: the public key is compared (constant time) before a ref is cached under it, and the cache
  is keyed by the exact key string, so a wrong key is a miss and goes to the database.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.security import secret_box
from app.stores.models import Store
from app.stores.origins import allowed_origins
from app.stores.storefront_keys import PUBLIC_KEY, keys_in

MAX_ENTRIES = 10_000
T = TypeVar("T")


@dataclass(frozen=True)
class StoreRef:
    """A read-only snapshot of a store for the webhook doors and the storefront (never written back)."""

    id: int
    status: str
    platform: str
    domain: str
    currency: str | None
    public_key: str | None
    secret: str | None
    origins: frozenset[str]
    webhook_secret: bytes | None = None  # WooCommerce signs its webhooks with it (Shopify: the app's secret)
    settings: dict[str, Any] = field(default_factory=dict)
    memos: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """compute() once per snapshot: what features derive from it (their validated settings, a digest) is
        worked out once per store and process, not per request. A snapshot never changes, so neither does the
        value; two threads racing compute it twice, to the same value."""
        try:
            return self.memos[key]  # type: ignore[no-any-return]  # keyed by the feature that stored it
        except KeyError:
            value = self.memos[key] = compute()
            return value


_cache: dict[tuple[str, str], tuple[float, StoreRef | None]] = {}
_lock = threading.Lock()


def snapshot(store: Store) -> StoreRef:
    creds = secret_box().open(store.credentials)  # decrypted once for both kinds of secret
    keys = keys_in(store, creds)
    webhook_secret = creds.get("webhook_secret") if store.platform == "woocommerce" else None
    return StoreRef(
        id=store.id,
        status=store.status,
        platform=store.platform,
        domain=store.domain,
        currency=store.currency,
        public_key=keys.public_key if keys else None,
        secret=keys.secret if keys else None,
        origins=frozenset(allowed_origins(store)),
        webhook_secret=webhook_secret.encode() if webhook_secret else None,
        settings=dict(store.settings or {}),
    )


def _cached(key: tuple[str, str], load: Any, *, misses: bool = False) -> StoreRef | None:
    ttl = float(current_app.config.get("STORE_CACHE_SECONDS") or 0)
    now = time.monotonic()
    hit = _cache.get(key) if ttl > 0 else None
    if hit is not None and hit[0] > now:
        return hit[1]
    ref = load()
    if (ref is not None or misses) and ttl > 0:
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
    """The store a storefront request names by its shop or site (hits only are cached)."""
    return _cached((platform, domain), lambda: _load_by_domain(platform, domain))


def _load_by_domain(platform: str, domain: str) -> StoreRef | None:
    store = db.session.scalar(select(Store).where(Store.platform == platform, Store.domain == domain))
    return snapshot(store) if store is not None else None


def forget_all() -> None:
    with _lock:
        _cache.clear()


def cached_store(platform: str, domain: str) -> StoreRef | None:
    """The store a webhook comes from (unknown domains remembered too). Ends its read transaction: the inbox
    insert that follows runs on a connection of its own."""

    def load() -> StoreRef | None:
        ref = _load_by_domain(platform, domain)
        db.session.rollback()
        return ref

    return _cached((platform, domain), load, misses=True)


def forget_store(platform: str, domain: str) -> None:
    """Drop this process's snapshots of the store (after a change it made: a new secret, a disconnect), under
    every key one was cached by (its domain, its public key)."""
    with _lock:
        _cache.pop((platform, domain), None)
        for key, (_, ref) in list(_cache.items()):
            if ref is not None and (ref.platform, ref.domain) == (platform, domain):
                del _cache[key]


def forget_ids(store_ids: set[int]) -> None:
    with _lock:
        for key in [k for k, (_, ref) in _cache.items() if ref is not None and ref.id in store_ids]:
            del _cache[key]


_CHANGED = "stores.cache.changed"


def _after_flush(session: Session, _context: Any) -> None:
    # The identity, not obj.id: reading an expired attribute here would load it in the middle of a flush.
    identities = (inspect(obj).identity for obj in (*session.dirty, *session.deleted) if isinstance(obj, Store))
    changed = {identity[0] for identity in identities if identity}
    if changed:
        session.info.setdefault(_CHANGED, set()).update(changed)


def _after_commit(session: Session) -> None:
    changed = session.info.pop(_CHANGED, None)
    if changed:
        forget_ids(changed)


def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def install() -> None:
    """Session events: a commit that changed or deleted a Store row (its settings, status, currency, ...) drops
    this process's snapshots of it at once; other processes see it within STORE_CACHE_SECONDS. Writers call
    nothing (the settings endpoints, the dashboard's forms, a revocation)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
