"""The audit log: one row per action a merchant takes through the admin API or a command (who, what, when).

Rows are written by app/admin/audit.record in the transaction of the action itself, so an action and its row
commit or roll back together. `store_id` scopes every read; shop/redact deletes the rows with the store's other
rows (compliance/data.delete_store_rows covers every table with a store_id). `diff` never holds a secret or a
shopper's personal data (audit.py keeps it to ids, statuses and the merchant's settings).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.store_keys import StoreRow
from app.platform.types import BigId, UTCDateTime, utcnow


class AuditEntry(StoreRow, Model):
    __tablename__ = "audit_log"
    # The log's one read: a store's rows newest first, optionally of one action.
    __table_args__ = (Index("ix_audit_log_store_id_id", "store_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    # Who: "shopify_user" (the session token's `sub`), "shopify_session" (a token without one), "admin_token"
    # (our admin token's fingerprint), "cli"; a surface that signs merchants in another way names its own kind.
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))  # e.g. settings.update, review.publish, referral.approve
    target: Mapped[str | None] = mapped_column(String(128))  # e.g. loyalty, review:42, customer:7
    diff: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
