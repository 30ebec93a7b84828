"""The scheduler step: shoppers' messages still waiting for an address are looked at again when due.

One statement claims the due rows of active stores (FOR UPDATE SKIP LOCKED on PostgreSQL, so two schedulers never
hand one over twice; the outbox's dedupe keys would absorb it anyway), each is handed over or given its next look
(service.hand_over), and the batch commits. An uninstalled store's rows stay as they are until it is back.
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.messaging.api import mail_now
from app.stores.models import Store
from app.support.models import SupportMessage
from app.support.service import hand_over

log = logging.getLogger(__name__)
BATCH = 500


def notify_waiting(app: Flask) -> dict[str, int]:
    with app.app_context():
        try:
            now = mail_now(app)
            stmt = (
                select(SupportMessage)
                .join(Store, Store.id == SupportMessage.store_id)
                .where(SupportMessage.next_notify_at <= now, Store.status == "active")
                .order_by(SupportMessage.next_notify_at, SupportMessage.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True, of=SupportMessage)
            )
            rows = db.session.scalars(stmt).all()
            handed = 0
            for row in rows:
                store = db.session.get(Store, row.store_id)
                if store is not None and hand_over(db.session, store, row, now):
                    handed += 1
            db.session.commit()
            if handed:
                log.info("support.waiting_handed_over", extra={"looked_at": len(rows), "handed_over": handed})
            return {"looked_at": len(rows), "handed_over": handed}
        finally:
            db.session.remove()
