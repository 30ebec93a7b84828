"""Who is asking for a dashboard page, and for which one store.

- Inside the Shopify admin: an App Bridge session token, sent by our script as `Authorization: Bearer` on every
  call (shopify.idToken(); https://shopify.dev/docs/apps/build/authentication-authorization/session-tokens), or
  the `id_token` query parameter Shopify adds to the app's URL on the first load
  (https://shopify.dev/docs/apps/build/authentication-authorization/id-tokens). Verified by
  app/stores/shopify_auth.verify_session_token, the same check as the admin API and /shopify/session.
- At our own origin (WooCommerce): the session cookie a magic link set (session.py).
A token that is valid for a shop we hold no offline token for is `NotInstalled`: the page's script then calls
POST /shopify/session (Shopify-managed installation's token exchange) and asks again. Nothing else is trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import jwt
from flask import request

from app.admin.auth import credential_generation
from app.dashboard.session import COOKIE, DashboardSession, read_session_cookie
from app.extensions import db
from app.security import bearer
from app.stores import shopify_auth
from app.stores.models import Store
from app.stores.shopify_tokens import installed, shop_store, verified_shop


@dataclass(frozen=True)
class Merchant:
    store: Store
    via: Literal["session_token", "cookie"]
    session: DashboardSession | None = None  # cookie sessions only: the CSRF secret
    user: str | None = None  # session tokens only: Shopify's staff user id (the token's `sub`)


@dataclass(frozen=True)
class NotInstalled:
    shop: str


def _from_session_token(token: str) -> Merchant | NotInstalled | None:
    try:
        shop = verified_shop(token)
    except shopify_auth.InstallRefused:
        return None
    store = shop_store(shop)
    if store is None or not installed(store):
        return NotInstalled(shop)
    return Merchant(store=store, via="session_token", user=_user(token))


def _user(token: str) -> str | None:
    """The staff user a verified token names (its `sub`), read after verified_shop checked the signature."""
    claims = jwt.decode(token, options={"verify_signature": False})
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return str(sub)[:64] if isinstance(sub, str | int) and str(sub) else None


def _from_cookie() -> Merchant | None:
    session = read_session_cookie(request.cookies.get(COOKIE))
    if session is None:
        return None
    store = db.session.get(Store, session.store_id)
    if store is None or store.status != "active" or credential_generation(store) != session.generation:
        return None
    return Merchant(store=store, via="cookie", session=session)


def resolve() -> Merchant | NotInstalled | None:
    """The merchant of this request: a session token first (header, then the first load's id_token), then the
    cookie. A request that shows a token is judged by it alone (no falling back to a cookie)."""
    token = bearer(request.headers.get("Authorization")) or (
        request.args.get("id_token", "") if request.method == "GET" else ""
    )
    if token:
        return _from_session_token(token)
    return _from_cookie()
