"""The WooCommerce merchant's way in: a magic link that becomes a session cookie for one store.

WordPress gives us no admin session we could verify, so `flask stores admin-link <store>` prints a link
(itsdangerous, signed with SECRET_KEY, salt `dashboard-login`, DASHBOARD_LINK_TTL_SECONDS) naming the store
and a random nonce. Opening it spends the nonce: one Redis `SET NX` with the link's lifetime as expiry, so two
tabs racing with the same link get one session between them (a unique key, not check-then-act). The answer
sets the cookie `ppe_dash`: signed (salt `dashboard-session`), naming the store, the store's admin token
generation (`flask stores admin-token --revoke` ends these sessions too) and the CSRF secret of the session;
HttpOnly, SameSite=Lax, Secure in production, Path=/app, DASHBOARD_SESSION_HOURS long.
https://flask.palletsprojects.com/en/stable/web-security/#set-cookie-options
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired

from app.admin.auth import credential_generation
from app.platform.queue import get_redis
from app.platform.redis_keys import store_tag
from app.security import timed_serializer
from app.stores.models import Store

COOKIE = "ppe_dash"
COOKIE_PATH = "/app"
_LINK_SALT = "dashboard-login"
_SESSION_SALT = "dashboard-session"


@dataclass(frozen=True)
class DashboardSession:
    store_id: int
    generation: int
    csrf_secret: str
    link: str | None = None  # the fingerprint of the sign-in link that opened it: who acts, in the audit log


@dataclass(frozen=True)
class SpentLink:
    store_id: int
    fingerprint: str


def link_fingerprint(nonce: str) -> str:
    """How the audit log names a sign-in link (its issue and what its session does): 16 hex digits of the
    SHA-256 of its nonce, which cannot be turned back into a usable link."""
    return hashlib.sha256(nonce.encode()).hexdigest()[:16]


def link_ttl() -> int:
    return int(current_app.config.get("DASHBOARD_LINK_TTL_SECONDS", 600))


def login_token(store: Store, nonce: str | None = None) -> str:
    return str(timed_serializer(_LINK_SALT).dumps({"s": store.id, "n": nonce or secrets.token_urlsafe(16)}))


def login_url(store: Store) -> tuple[str, str]:
    """The link, and its fingerprint (link_fingerprint) for the audit row of its issue."""
    base = str(current_app.config.get("APP_URL", "http://127.0.0.1:8000")).rstrip("/")
    nonce = secrets.token_urlsafe(16)
    return f"{base}/app/login?token={login_token(store, nonce)}", link_fingerprint(nonce)


def spend_login_token(token: str) -> SpentLink | None:
    """The store of a valid, unexpired, never used link (and it is used from now on), else None."""
    try:
        claims = timed_serializer(_LINK_SALT).loads(token, max_age=link_ttl())
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(claims, dict) or not isinstance(claims.get("s"), int) or not isinstance(claims.get("n"), str):
        return None
    # Keyed by a hash of the nonce: the key names no link that could still be opened.
    key = f"dash:login:{store_tag(claims['s'])}:" + hashlib.sha256(claims["n"].encode()).hexdigest()
    if not get_redis().set(key, "1", nx=True, ex=link_ttl() + 60):
        return None
    return SpentLink(int(claims["s"]), link_fingerprint(claims["n"]))


def session_max_age() -> int:
    return int(float(current_app.config.get("DASHBOARD_SESSION_HOURS", 12)) * 3600)


def new_session_cookie(store: Store, link: str | None = None) -> str:
    claims = {"s": store.id, "g": credential_generation(store), "c": secrets.token_urlsafe(16), "l": link}
    return str(timed_serializer(_SESSION_SALT).dumps(claims))


def cookie_options() -> dict[str, Any]:
    production = current_app.config.get("APP_ENV") == "production"
    return {
        "max_age": session_max_age(),
        "path": COOKIE_PATH,
        "httponly": True,
        "secure": production or str(current_app.config.get("APP_URL", "")).startswith("https://"),
        "samesite": "Lax",
    }


def read_session_cookie(value: str | None) -> DashboardSession | None:
    if not value:
        return None
    try:
        claims = timed_serializer(_SESSION_SALT).loads(value, max_age=session_max_age())
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(claims, dict) or not isinstance(claims.get("s"), int) or not isinstance(claims.get("c"), str):
        return None
    link = claims.get("l") if isinstance(claims.get("l"), str) else None
    return DashboardSession(claims["s"], int(claims.get("g", 0)), claims["c"], link)


def csrf_token(session: DashboardSession) -> str:
    """The value forms carry: an HMAC of the session's secret, so the cookie's content is never in the page."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"csrf:{session.store_id}:{session.csrf_secret}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(session: DashboardSession, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(session).encode(), (given or "").encode("utf-8", "replace"))
