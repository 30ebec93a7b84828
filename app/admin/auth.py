"""Who is calling the admin API, and for which store.

- Shopify: the embedded app's App Bridge session token (`Authorization: Bearer <JWT>`), verified exactly as at
  install (HS256 with the app secret, audience = our client id, `iss` and `dest` the same shop, 10 s leeway):
  https://shopify.dev/docs/apps/build/authentication-authorization/session-tokens
- WooCommerce has no admin session we can verify, so the merchant (or their dashboard) uses an admin token we
  issue: `flask stores admin-token <site>`. It is signed with SECRET_KEY (itsdangerous, its own salt), names the
  store and a generation number kept on the store, and expires; `--revoke` bumps the generation, which
  invalidates every token issued before.
Both resolve to one active Store, put on `g.store`; anything else is 401 with a JSON error.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, jsonify, request
from itsdangerous import BadSignature, SignatureExpired

from app.extensions import db
from app.security import bearer, timed_serializer
from app.stores import shopify_auth
from app.stores.models import Store
from app.stores.shopify_tokens import shop_store, verified_shop

F = TypeVar("F", bound=Callable[..., Any])
ADMIN_TOKEN_PREFIX = "ppa1."  # noqa: S105  (a format marker, not a secret)
_SALT = "admin-api-token"
DEFAULT_TTL_DAYS = 90


def credential_generation(store: Store) -> int:
    """The store's admin credential generation: `admin-token --revoke` bumps it, which ends every admin token and
    dashboard session issued before (app/dashboard/session.py carries it too)."""
    return int((store.settings or {}).get("admin_token_generation", 0))


def issue_admin_token(store: Store) -> str:
    """A bearer token for this store's admin API (valid for the configured days, until revoked)."""
    return ADMIN_TOKEN_PREFIX + timed_serializer(_SALT).dumps({"s": store.id, "g": credential_generation(store)})


def revoke_admin_tokens(store: Store) -> None:
    store.settings = {**(store.settings or {}), "admin_token_generation": credential_generation(store) + 1}


def _store_from_admin_token(token: str) -> Store | None:
    max_age = int(current_app.config.get("ADMIN_TOKEN_TTL_DAYS", DEFAULT_TTL_DAYS)) * 86400
    try:
        claims = timed_serializer(_SALT).loads(token[len(ADMIN_TOKEN_PREFIX) :], max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(claims, dict) or not isinstance(claims.get("s"), int):
        return None
    store = db.session.get(Store, claims["s"])
    if store is None or claims.get("g") != credential_generation(store):
        return None
    return store


def _store_from_session_token(token: str) -> Store | None:
    try:
        return shop_store(verified_shop(token))
    except shopify_auth.InstallRefused:
        return None


def authenticate() -> Store | None:
    token = bearer(request.headers.get("Authorization"))
    if not token:
        return None
    if token.startswith(ADMIN_TOKEN_PREFIX):
        store = _store_from_admin_token(token)
    else:
        store = _store_from_session_token(token)
    return store if store is not None and store.status == "active" else None


def merchant_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        store = authenticate()
        if store is None:
            return jsonify(error="unauthorized"), 401
        g.store = store
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
