"""TEMPORARY (branch h8): send_to_customer on the e-mail outbox alone, with the signature branch h7 commits in
app/messaging/api.py (channels, consent, quiet hours, the daily cap). Removed when h7 is merged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.messaging import enqueue_message
from app.messaging.models import Message
from app.records.models import Customer
from app.stores.models import Store


def send_to_customer(
    session: Session,
    store: Store,
    *,
    customer_id: int,
    template: str,
    context: dict[str, Any],
    dedupe_key: str,
    purpose: str = "transactional",
    locale: str | None = None,
    send_after: datetime | None = None,
    capped: bool = False,
) -> Message:
    customer = session.get(Customer, customer_id)
    return enqueue_message(
        session,
        store,
        template=template,
        to=(customer.email if customer else None) or "",
        locale=locale,
        context=context,
        dedupe_key=dedupe_key,
        customer_id=customer_id,
        send_after=send_after,
    )
