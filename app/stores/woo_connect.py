"""Connecting a WooCommerce store: the wc-auth handshake, activation, and disconnecting.

The handshake (WooCommerce's includes/class-wc-auth.php, and
https://woocommerce.github.io/woocommerce-rest-api-docs/#rest-api-keys):
1. We send the merchant to {site}/wc-auth/v1/authorize with an opaque `user_id`.
2. On approval the store creates a key pair and POSTs {key_id, user_id,
   consumer_key, consumer_secret, key_permissions} as JSON to our callback_url,
   which it requires to be https://. Any answer but exactly 200 makes it delete
   the key it just created and show the merchant an error; only a 200 sends the
   merchant on to return_url with success=1.
So a callback we cannot use (unknown or expired user_id, read-only key) is
answered non-200 on purpose: the store then deletes a key nobody will hold.
A retried callback for a connection already completed with the same key is 200.

No HTTP here: the REST calls (webhooks) are made by the caller's client, in jobs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.platform.types import utcnow
from app.security import SecretBox
from app.stores.models import Store
from app.stores.models.woocommerce import COMPLETED, PENDING, REFUSED, WEBHOOKS_PENDING, WooConnection, WooStoreState
from app.stores.service import add_store, mark_uninstalled
from connectors.exceptions import ConnectorError
from connectors.woocommerce import site_key

REQUIRED_PERMISSIONS = "read_write"
_ALPHANUM = string.ascii_letters + string.digits
_CREDENTIAL_KEYS = ("consumer_key", "consumer_secret", "webhook_secret", "key_id")


#: Called as hook(store_id) once a store's keys are stored and active (after the commit): the inbox registers
#: the webhook registration job here (inbox/woo_upkeep.py).
CONNECTED_HOOKS: list[Callable[[int], Any]] = []


def register_connected_hook(hook: Callable[[int], Any]) -> None:
    if hook not in CONNECTED_HOOKS:
        CONNECTED_HOOKS.append(hook)


class ConnectError(InvalidInput, ValueError):
    """A connect request we refuse (bad site URL); the message is safe to show."""

    code = "site_invalid"


def normalise_site_url(raw: str) -> str:
    """scheme://host[:port][/path] of a WooCommerce site, or ConnectError.

    Credentials, query and fragment are refused rather than dropped: a URL that
    carries them is not a plain site address, and we would redirect to it.
    """
    value = (raw or "").strip()
    if not value or len(value) > 400:
        raise ConnectError("site must be the store's address, e.g. https://shop.example.com")
    if "://" not in value:
        value = "https://" + value
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ConnectError("site is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise ConnectError("site must be an http(s) URL")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise ConnectError("site must have a host and no credentials")
    if parts.query or parts.fragment or "#" in value:
        raise ConnectError("site must not have a query or fragment")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    netloc = f"{host}:{port}" if port and port != default else host
    url = f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"
    if not site_key(url):
        raise ConnectError("site is not a valid URL")
    return url


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_webhook_secret(length: int = 40) -> str:
    # Alphanumeric so no plugin or proxy ever mangles it; 40 chars is ~238 bits.
    return "".join(secrets.choice(_ALPHANUM) for _ in range(length))


def start_connection(session: Session, site: str, *, ttl_seconds: int) -> tuple[WooConnection, str]:
    """Record a pending connection; returns it with the user_id to send (shown once, stored hashed)."""
    site_url = normalise_site_url(site)
    user_id = secrets.token_urlsafe(32)
    connection = WooConnection(
        user_id_hash=token_hash(user_id),
        site_url=site_url,
        domain=site_key(site_url),
        status=PENDING,
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
    )
    session.add(connection)
    session.flush()
    return connection, user_id


def authorize_url(site_url: str, *, app_name: str, user_id: str, return_url: str, callback_url: str) -> str:
    query = urlencode(
        {
            "app_name": app_name,
            "scope": REQUIRED_PERMISSIONS,
            "user_id": user_id,
            "return_url": return_url,
            "callback_url": callback_url,
        }
    )
    return f"{site_url}/wc-auth/v1/authorize?{query}"


def find_connection(session: Session, user_id: str, *, lock: bool = True) -> WooConnection | None:
    """The connection for a user_id; locked (PostgreSQL) so two concurrent callbacks apply one at a time."""
    if not isinstance(user_id, str) or not user_id or len(user_id) > 200:
        return None
    wanted = token_hash(user_id)
    query = select(WooConnection).where(WooConnection.user_id_hash == wanted)
    connection = session.scalar(query.with_for_update() if lock else query)
    # The lookup is by hash already; the constant-time check keeps it so if the query ever changes.
    if connection is None or not hmac.compare_digest(connection.user_id_hash, wanted):
        return None
    return connection


@dataclass(frozen=True)
class CallbackResult:
    status: int  # the HTTP status to answer WooCommerce with
    outcome: str  # a stable word for logs and the answer body
    store_id: int | None = None
    activated: bool = False  # credentials changed: (re)register the webhooks


def complete_connection(
    session: Session, box: SecretBox, payload: Any, *, now: datetime | None = None
) -> CallbackResult:
    """Handle the store's key POST. Flushes; the caller commits (before answering 200)."""
    now = now or utcnow()
    if not isinstance(payload, dict):
        return CallbackResult(400, "malformed")
    # JSON values, each checked below to be a non-empty str (all() does not narrow the dict's value type).
    fields: dict[str, Any] = {
        k: payload.get(k) for k in ("user_id", "consumer_key", "consumer_secret", "key_permissions")
    }
    if not all(isinstance(v, str) and v for v in fields.values()):
        return CallbackResult(400, "malformed")
    connection = find_connection(session, fields["user_id"])
    if connection is None:
        return CallbackResult(404, "unknown_connection")
    key_hash = token_hash(fields["consumer_key"])
    if connection.status == COMPLETED and hmac.compare_digest(connection.consumer_key_hash or "", key_hash):
        return CallbackResult(200, "already_connected", connection.store_id)
    if connection.status == REFUSED:
        return CallbackResult(403, "refused")
    if connection.expires_at <= now:
        return CallbackResult(410, "expired")
    if fields["key_permissions"] != REQUIRED_PERMISSIONS:
        # We asked for read_write; anything else is a tampered request or a changed store. The
        # non-200 answer makes WooCommerce delete the key, and this connection cannot be reused.
        connection.status = REFUSED
        connection.refusal = "insufficient_permissions"
        session.flush()
        return CallbackResult(403, "insufficient_permissions")
    store = add_store(
        session,
        box,
        "woocommerce",
        connection.site_url,
        {
            "consumer_key": fields["consumer_key"],
            "consumer_secret": fields["consumer_secret"],
            "key_id": str(payload.get("key_id") or ""),
            "webhook_secret": new_webhook_secret(),
        },
    )
    state = session.get(WooStoreState, store.id)
    if state is None:
        state = WooStoreState(store_id=store.id, api_url=connection.site_url, webhooks={})
        session.add(state)
    state.api_url = connection.site_url
    state.webhooks_status = WEBHOOKS_PENDING
    state.last_error = None
    # Orders from now on are ours to reconcile; history is the backfill feature's job.
    state.reconcile_watermark = state.reconcile_watermark or now
    # The registration job goes first; the scheduler's upkeep takes over after this.
    state.next_maintenance_at = now + timedelta(minutes=5)
    connection.status = COMPLETED
    connection.store_id = store.id
    connection.key_id = str(payload.get("key_id") or "")[:32] or None
    connection.consumer_key_hash = key_hash
    connection.completed_at = now
    session.flush()
    return CallbackResult(200, "connected", store.id, activated=True)


class WebhookAdmin(Protocol):
    def list_webhooks(self) -> list[dict[str, Any]]: ...
    def delete_webhook(self, webhook_id: int | str) -> bool: ...


def same_url(a: Any, b: str) -> bool:
    return isinstance(a, str) and a.strip().rstrip("/") == b.rstrip("/")


@dataclass(frozen=True)
class DisconnectResult:
    webhooks_deleted: int
    remote_error: str | None  # set when the store could not be reached or refused the key


def disconnect(
    session: Session, box: SecretBox, store: Store, *, client: WebhookAdmin | None, delivery_url: str
) -> DisconnectResult:
    """Delete our webhooks at the store, forget its keys, mark it uninstalled. Flushes; caller commits.

    WooCommerce has no REST endpoint to delete an API key
    (https://github.com/woocommerce/woocommerce/issues/14734), so the key itself
    can only be revoked by the merchant (WooCommerce > Settings > Advanced > REST
    API, "<APP_NAME> - API (date)"); we drop every copy we hold. Local cleanup happens even when the store is down.
    """
    deleted, error = 0, None
    if client is not None:
        try:
            for webhook in client.list_webhooks():
                if same_url(webhook.get("delivery_url"), delivery_url) and client.delete_webhook(webhook["id"]):
                    deleted += 1
        except ConnectorError as exc:
            error = type(exc).__name__
    remaining = {k: v for k, v in box.open(store.credentials).items() if k not in _CREDENTIAL_KEYS}
    store.credentials = box.seal(remaining) if remaining else None
    state = session.get(WooStoreState, store.id)
    if state is not None:
        state.webhooks = {}
        state.webhooks_status = "removed"
        state.next_maintenance_at = None
    mark_uninstalled(session, store)
    session.flush()
    return DisconnectResult(deleted, error)
