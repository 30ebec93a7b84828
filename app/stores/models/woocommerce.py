"""WooCommerce connections: the wc-auth handshake and the per-store upkeep state.

A `WooConnection` is one merchant's trip through /wc-auth/v1/authorize: we hand
the store an unguessable `user_id` and keep only its SHA-256, so a database
read does not yield a token that could bind keys to a store. `WooStoreState` is
what the scheduler needs per connected store: the API base URL (Store.domain
drops the scheme), the webhooks we registered, and the reconcile watermark.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.types import BigId, UTCDateTime, utcnow

# WooConnection.status
PENDING, COMPLETED, REFUSED = "pending", "completed", "refused"
# WooStoreState.webhooks_status
WEBHOOKS_PENDING, WEBHOOKS_ACTIVE, WEBHOOKS_ERROR = "pending", "active", "error"


class WooConnection(Model):
    __tablename__ = "woo_connections"
    __table_args__ = (Index("ix_woo_connections_store_id", "store_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Unique: the callback finds its connection by this hash alone.
    user_id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    site_url: Mapped[str] = mapped_column(String(512))  # scheme://host[:port][/path], no trailing slash
    domain: Mapped[str] = mapped_column(String(255))  # connectors.woocommerce.site_key(site_url)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    # Set once the callback activated a store; None while pending or when refused.
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    key_id: Mapped[str | None] = mapped_column(String(32))
    # SHA-256 of the consumer key delivered, to recognise a retried callback.
    consumer_key_hash: Mapped[str | None] = mapped_column(String(64))
    refusal: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WooStoreState(Model):
    __tablename__ = "woo_store_state"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    api_url: Mapped[str] = mapped_column(String(512))
    webhooks_status: Mapped[str] = mapped_column(String(16), default=WEBHOOKS_PENDING)
    # topic -> {"id": "<platform webhook id>", "status": "active" | "disabled" | ...}
    webhooks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Orders modified after this (minus an overlap) are fetched by the next reconcile.
    reconcile_watermark: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_reconciled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The scheduler enqueues maintenance when this is due, and pushes it forward as it does.
    next_maintenance_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
