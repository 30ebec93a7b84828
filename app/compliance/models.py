"""Privacy requests from the platform (Shopify's mandatory compliance webhooks), one row each.

The row is the audit trail of what was asked and when it was done, so it must
outlive the data it is about: `store_id` is deliberately *not* a foreign key
(shop/redact deletes the store row and everything keyed to it, but not this),
and the shop's domain and platform id are copied onto the row.

It holds the platform's identifiers only (shop, customer and order ids, the
data request id). The customer's email and phone stay in the raw inbox
delivery, which the job reads and the redaction then scrubs, so an erased
customer's contact details are not kept here either. The export of a
customers/data_request is stored in `export` (JSON, in the database rather
than a file so that any web or worker process can serve it) and purged by a
later customers/redact of the same customer and by shop/redact.
Topics: https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.store_keys import StoreRow
from app.platform.types import BigId, UTCDateTime, utcnow

DATA_REQUEST, CUSTOMER_REDACT, SHOP_REDACT = "customers/data_request", "customers/redact", "shop/redact"
TOPICS = (DATA_REQUEST, CUSTOMER_REDACT, SHOP_REDACT)
PENDING, COMPLETED, FAILED = "pending", "completed", "failed"


class ComplianceRequest(StoreRow, Model):
    __tablename__ = "compliance_requests"
    __table_args__ = (
        # One request per inbox delivery: recording it again (a replayed delivery) finds this row.
        UniqueConstraint("store_id", "delivery_id"),
        # The sweep: pending rows that are due.
        Index("ix_compliance_requests_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Not a foreign key: the row survives shop/redact.
    store_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    delivery_id: Mapped[int] = mapped_column(BigInteger)  # webhook_inbox.id (also not a FK, same reason)
    platform: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(64))
    shop_domain: Mapped[str] = mapped_column(String(255))
    shop_platform_id: Mapped[str | None] = mapped_column(String(64))
    customer_platform_id: Mapped[str | None] = mapped_column(String(64))
    # orders_requested (data request) or orders_to_redact (redact), platform ids as strings.
    order_platform_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    data_request_id: Mapped[str | None] = mapped_column(String(64))

    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the delivery was received
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)  # exception type and message only, never payload data
    # What the job did (row counts), for the merchant and for audits; no personal data.
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # none_as_null: clearing it must leave SQL NULL (not JSON 'null') so IS NULL finds it.
    export: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    export_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def as_dict(self, *, with_export: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "store_id": self.store_id,
            "platform": self.platform,
            "topic": self.topic,
            "shop_domain": self.shop_domain,
            "shop_platform_id": self.shop_platform_id,
            "customer_platform_id": self.customer_platform_id,
            "order_platform_ids": list(self.order_platform_ids or []),
            "data_request_id": self.data_request_id,
            "requested_at": self.requested_at.isoformat() if self.requested_at else None,
            "status": self.status,
            "attempts": self.attempts,
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
            "error": self.error,
            "summary": self.summary or {},
            "has_export": self.export is not None,
            "export_purged_at": self.export_purged_at.isoformat() if self.export_purged_at else None,
        }
        if with_export:
            data["export"] = self.export
        return data
