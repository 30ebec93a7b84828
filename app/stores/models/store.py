"""A merchant's store: the tenant every other row belongs to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.types import UTCDateTime, utcnow

PLATFORMS = ("shopify", "woocommerce")


class Store(Model):
    __tablename__ = "stores"
    __table_args__ = (UniqueConstraint("platform", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    # Shopify: the permanent <shop>.myshopify.com; WooCommerce: host[/path] of the site.
    domain: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str | None] = mapped_column(String(3))
    # IANA zone name (e.g. "Europe/Berlin") as the platform reports it: quiet hours and local dates use it.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # The store's own e-mail as the platform reports it: where shoppers' help messages and alerts go by default.
    contact_email: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | uninstalled
    # Fernet token of a JSON object (access token, consumer key/secret, webhook secret).
    credentials: Mapped[bytes | None] = mapped_column(LargeBinary)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "platform": self.platform,
            "domain": self.domain,
            "name": self.name,
            "currency": self.currency,
            "status": self.status,
            "installed_at": self.installed_at.isoformat() if self.installed_at else None,
            "uninstalled_at": self.uninstalled_at.isoformat() if self.uninstalled_at else None,
        }
