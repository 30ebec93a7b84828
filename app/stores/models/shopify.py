"""Shopify install state: one-time OAuth `state` nonces, and per-store webhook registration status.

Tokens are not here: they live encrypted in Store.credentials (app/stores/shopify_auth.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.types import BigId, UTCDateTime, utcnow

# ShopifyInstall.webhooks_status
WEBHOOKS_PENDING, WEBHOOKS_ACTIVE, WEBHOOKS_ERROR = "pending", "active", "error"


class ShopifyOAuthState(Model):
    """A `state` nonce we sent to /admin/oauth/authorize; deleted when the callback consumes it.

    Only its SHA-256 is stored, and it is looked up by that hash: a database read yields nothing
    that completes a callback, and the lookup compares digests rather than the secret itself.
    """

    __tablename__ = "shopify_oauth_states"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    shop: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShopifyInstall(Model):
    """What the last install did for a store: granted scopes and the webhook sync outcome.

    `webhooks_status` = error keeps a failed sync visible and retryable
    (app.stores.shopify_install.sync_store_webhooks, `flask stores sync-webhooks`).
    """

    __tablename__ = "shopify_installs"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    scopes: Mapped[str | None] = mapped_column(String(1024))
    webhooks_status: Mapped[str] = mapped_column(String(16), default=WEBHOOKS_PENDING)
    # topic -> how it is subscribed: "shopify.app.toml" (app-specific); a gid from versions that subscribed per shop
    webhooks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
