"""Installing a Shopify store: request verification, state nonces, session tokens, and the tokens we keep.

No HTTP here: the token endpoint and Admin API are called through connectors/shopify_admin.py by the
caller, or by a `refresher` callable handed in. Every time check takes `now` (epoch seconds) from the
caller, so the app's clock (SHOPIFY_CLOCK) is the only clock.

Docs relied on:
- Install/callback query verification (hex HMAC-SHA256 over the sorted key=value pairs without hmac, escaped
  and with list keys as Shopify's Python library signs them: shopify/session.py in ShopifyAPI), shop
  hostname rule, state nonce, timestamp:
  https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant
- Session tokens (HS256 JWT signed with the client secret; aud = client id; iss = https://{shop}/admin;
  dest = https://{shop}; exp/nbf): https://shopify.dev/docs/apps/build/authentication-authorization/session-tokens
- Expiring offline tokens (1 h access token, rotating refresh token, store the pair atomically):
  https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens
  https://shopify.dev/changelog/more-resilient-refreshes-for-expiring-offline-access-tokens
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlencode

import jwt
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.errors import Conflict, Unauthenticated
from app.platform.locks import job_lock
from app.platform.redis_keys import store_tag
from app.security import SecretBox
from app.stores.models import Store
from app.stores.models.shopify import ShopifyOAuthState
from app.stores.service import SHOP_DOMAIN, add_store
from app.stores.uninstall import TOKEN_KEYS, revoke_tokens
from connectors.shopify_admin import TokenGrant

log = logging.getLogger(__name__)

MAX_REQUEST_AGE = 24 * 60 * 60  # Shopify's libraries refuse install requests older than a day
MAX_CLOCK_SKEW = 5 * 60
SESSION_TOKEN_LEEWAY = 10  # seconds; session tokens live one minute (both of Shopify's libraries allow 10 s)
SESSION_TOKEN_CLAIMS = ("exp", "nbf", "iss", "dest", "aud", "sub", "jti", "sid")


class NotInstalled(Conflict, LookupError):
    """The store is unknown, uninstalled, or holds no access token: it must install (again)."""

    code = "store_not_installed"


class InstallRefused(Unauthenticated, ValueError):
    """A request we refuse; `reason` is a stable code, safe to log and to show (the install views answer it)."""

    code = "install_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def valid_shop(value: str | None) -> str:
    """The lower-cased <shop>.myshopify.com, or InstallRefused("shop"): checked before any redirect."""
    shop = value or ""  # not stripped: a value with whitespace is not a hostname
    if len(shop) > 255 or not SHOP_DOMAIN.fullmatch(shop):
        raise InstallRefused("shop")
    return shop.lower()


def query_hmac(params: Mapping[str, Sequence[str]], secret: str) -> str:
    """Hex HMAC-SHA256 of the query as Shopify's Python library signs it (shopify.Session.calculate_hmac).

    Every key but hmac, sorted as `key=value` pairs joined by '&'. A key ending in [] (ids[]=2&ids[]=1) loses
    its brackets and signs its values as a JSON list (["2", "1"]); '%' and '=' in keys, '%' in values and '&'
    in a pair are escaped, so a value cannot pose as another pair. A plain key given twice is refused
    (InstallRefused("hmac")): no library signs it, and a second value must not slip past the signature.
    """
    pairs = []
    for key, values in params.items():
        if key == "hmac":
            continue
        if key.endswith("[]"):
            key, value = key.rstrip("[]"), json.dumps(list(values))
        elif len(values) == 1:
            value = values[0]
        else:
            raise InstallRefused("hmac")
        key = key.replace("%", "%25").replace("=", "%3D")
        pairs.append(f"{key}={value.replace('%', '%25')}".replace("&", "%26"))
    message = "&".join(sorted(pairs))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def verify_query(params: Mapping[str, Sequence[str]], secret: str, now: float) -> str:
    """Check shop, hmac and timestamp of an install or callback query; returns the shop."""
    shop = valid_shop(_first(params, "shop"))
    given = _first(params, "hmac") or ""
    expected = query_hmac(params, secret)
    # Constant time, and exact as the library compares (lower-case hex).
    if not secret or not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise InstallRefused("hmac")
    try:
        timestamp = int(_first(params, "timestamp") or "")
    except ValueError:
        raise InstallRefused("timestamp") from None
    if timestamp < now - MAX_REQUEST_AGE or timestamp > now + MAX_CLOCK_SKEW:
        raise InstallRefused("timestamp")
    return shop


def new_state(session: Session, shop: str, now: float, ttl_seconds: int) -> str:
    """A one-time nonce for /admin/oauth/authorize, bound to the shop; only its hash is stored."""
    state = secrets.token_urlsafe(32)
    session.execute(delete(ShopifyOAuthState).where(ShopifyOAuthState.expires_at < _dt(now)))
    session.add(ShopifyOAuthState(state_hash=_sha256(state), shop=shop, expires_at=_dt(now + ttl_seconds)))
    session.flush()
    return state


def consume_state(session: Session, shop: str, state: str | None, now: float) -> None:
    """Delete the nonce (once: a replay finds nothing) or InstallRefused("state").

    The row is found by the SHA-256 of the presented value, so the secret itself is never compared
    byte by byte; the DELETE's row count makes two concurrent callbacks consume it at most once.
    """
    if not state:
        raise InstallRefused("state")
    result = session.execute(
        delete(ShopifyOAuthState).where(
            ShopifyOAuthState.state_hash == _sha256(state),
            ShopifyOAuthState.shop == shop,
            ShopifyOAuthState.expires_at >= _dt(now),
        )
    )
    # DML returns a CursorResult (rowcount); execute() is typed Result
    if cast("CursorResult[Any]", result).rowcount != 1:
        raise InstallRefused("state")


def authorize_url(shop: str, *, api_key: str, scopes: str, redirect_uri: str, state: str) -> str:
    # No grant_options[]: we want an offline token (the default). Expiry is requested at the code exchange.
    query = urlencode({"client_id": api_key, "scope": scopes, "redirect_uri": redirect_uri, "state": state})
    return f"https://{shop}/admin/oauth/authorize?{query}"


def verify_session_token(token: str, *, api_key: str, api_secret: str, now: float) -> str:
    """The shop an App Bridge session token speaks for, or InstallRefused("session_token").

    As strict as both of Shopify's libraries together: HS256 only; aud exactly our API key (shopify-api-js
    compares with ===); exp, nbf and iat numbers (jose refuses a string; PyJWT would take one) within a 10 s
    leeway; iss, dest, sub, jti, sid present (ShopifyAPI's session_token.py); dest a shop and iss that shop's
    admin, in the documented form https://{shop}/admin.
    """
    try:
        # Times are checked below against the app clock, not PyJWT's.
        claims = jwt.decode(
            token,
            api_secret,
            algorithms=["HS256"],
            audience=api_key,
            options={
                "require": list(SESSION_TOKEN_CLAIMS),
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.InvalidTokenError:
        raise InstallRefused("session_token") from None
    if not api_key or claims["aud"] != api_key or not _within(claims, now):
        raise InstallRefused("session_token")
    dest, iss = claims["dest"], claims["iss"]
    if not isinstance(dest, str) or not dest.startswith("https://"):
        raise InstallRefused("session_token")
    try:
        shop = valid_shop(dest.removeprefix("https://"))
    except InstallRefused:
        raise InstallRefused("session_token") from None
    if not isinstance(iss, str) or not hmac.compare_digest(iss.lower().encode(), f"https://{shop}/admin".encode()):
        raise InstallRefused("session_token")
    return shop


def _within(claims: Mapping[str, Any], now: float) -> bool:
    """exp, nbf (and iat if present) are JSON numbers putting now inside the token's life, give or take the leeway."""
    dates: dict[str, float] = {}
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            return False
        if isinstance(value, int | float):
            dates[name] = float(value)
    if now > dates["exp"] + SESSION_TOKEN_LEEWAY or now < dates["nbf"] - SESSION_TOKEN_LEEWAY:
        return False
    return dates.get("iat", now) <= now + SESSION_TOKEN_LEEWAY


def store_grant(session: Session, box: SecretBox, shop: str, grant: TokenGrant, now: float) -> Store:
    """Create or reactivate the store (add_store) and replace its tokens with the grant's, all sealed."""
    store = add_store(session, box, "shopify", shop, {"access_token": grant.access_token})
    _write_tokens(store, box, grant, now)
    session.flush()
    return store


def revoke_access(session: Session, store: Store, box: SecretBox | None = None) -> None:
    """Forget the store's tokens (app/uninstalled): they are dead at Shopify anyway, and must not linger."""
    from app.security import secret_box

    revoke_tokens(session, store, box or secret_box())


def has_token(box: SecretBox, store: Store) -> bool:
    return bool(box.open(store.credentials).get("access_token"))


def get_access_token(
    engine: Engine,
    box: SecretBox,
    store_id: int,
    refresher: Callable[[str, str], TokenGrant],
    *,
    now: Callable[[], float],
    margin: float = 300.0,
    redis: Any = None,
) -> str:
    """A usable access token for the store, refreshing it first when it expires within `margin` seconds.

    Runs in its own short transaction (the caller's is untouched). Concurrent callers refresh once:
    a Redis lock serialises processes (and SQLite), the PostgreSQL row lock (SELECT ... FOR UPDATE) is
    the authority if the Redis lock lapsed, and after either the stored pair is read again, so a
    waiter reuses the token the winner saved instead of spending the rotated refresh token again.
    """
    with Session(engine) as session:
        token = _fresh_token(box, session.get(Store, store_id), now(), margin)
    if token:
        return token
    held = job_lock(redis, f"shopify:token-refresh:{store_tag(store_id)}", 60, wait=30) if redis else nullcontext(False)
    with held, Session(engine) as session, session.begin():
        store = session.scalar(select(Store).where(Store.id == store_id).with_for_update())
        token = _fresh_token(box, store, now(), margin)
        if token:
            return token
        assert store is not None  # _fresh_token raised NotInstalled for a missing store
        refresh_token = box.open(store.credentials).get("refresh_token")
        if not refresh_token:
            raise InstallRefused("no_refresh_token")
        grant = refresher(store.domain, refresh_token)
        # Access and refresh token are one sealed blob: saved together or not at all.
        _write_tokens(store, box, grant, now())
        log.info("stores.shopify_install.token_refreshed", extra={"store_id": store_id})
        return grant.access_token


def _fresh_token(box: SecretBox, store: Store | None, now: float, margin: float) -> str | None:
    if store is None or store.status != "active":
        raise NotInstalled("store not installed")
    credentials = box.open(store.credentials)
    token = credentials.get("access_token")
    if not token:
        raise NotInstalled("store has no access token")
    expires_at = credentials.get("access_token_expires_at")
    if expires_at is None or float(expires_at) - margin > now:
        return token
    return None


def _write_tokens(store: Store, box: SecretBox, grant: TokenGrant, now: float) -> None:
    credentials = {k: v for k, v in box.open(store.credentials).items() if k not in TOKEN_KEYS}
    credentials.update(access_token=grant.access_token, scope=grant.scope)
    if grant.expires_in is not None:
        credentials["access_token_expires_at"] = int(now) + grant.expires_in
    if grant.refresh_token:
        credentials["refresh_token"] = grant.refresh_token
        if grant.refresh_token_expires_in is not None:
            credentials["refresh_token_expires_at"] = int(now) + grant.refresh_token_expires_in
    store.credentials = box.seal(credentials)


def _first(params: Mapping[str, Sequence[str]], key: str) -> str | None:
    values = params.get(key)
    return values[0] if values else None


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(0, UTC) + timedelta(seconds=epoch)
