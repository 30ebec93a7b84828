"""What the delivery journey decided for each parcel: one row per (store, fulfilment, state), whatever happened to
it (sent, superseded by a later state, switched off, nobody to tell). The unique key is what makes "one message per
state per fulfilment" hold under duplicates, shuffles and concurrent workers; the message's own dedupe key
(`delivery:<fulfilment>:<state>`) is the second guard. State `late` records that the late-parcel scan handled the
parcel (a recovery case opened, or a delay message), so the scan's NOT EXISTS skips it afterwards.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.store_keys import StoreRow
from app.platform.types import BigId, UTCDateTime, utcnow

SENT, SUPERSEDED, OFF, NO_CUSTOMER, HANDLED = "sent", "superseded", "off", "no_customer", "handled"
DUE = "due"  # decided to send: the scheduler step (send.py) queues it, out of the inbox's transaction
OUTCOMES = (DUE, SENT, SUPERSEDED, OFF, NO_CUSTOMER, HANDLED)


class DeliveryUpdate(StoreRow, Model):
    __tablename__ = "delivery_updates"
    __table_args__ = (
        UniqueConstraint("store_id", "fulfillment_platform_id", "state"),
        Index("ix_delivery_updates_store_id_order", "store_id", "order_platform_id"),
        Index("ix_delivery_updates_store_id_outcome", "store_id", "outcome"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    order_platform_id: Mapped[str] = mapped_column(String(64))
    fulfillment_platform_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(24))
    outcome: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[int | None] = mapped_column(BigInteger)  # the outbox row, when one was queued
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
