"""Phone contacts per store and channel (models.PhoneContact), keyed by the SHA-256 of the E.164 number.

- opt-outs: Twilio's opt-out keywords (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, and in newer accounts
  REVOKE, OPTOUT) and WhatsApp's marketing opt-out suppress the channel for that number; Twilio's opt-in
  keywords (START, UNSTOP, YES) lift it. https://help.twilio.com/articles/223134027
- the 24-hour customer-service window: WhatsApp lets a business send free-form text only within 24 hours of
  the person's last message; outside it only approved templates.
  https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages#customer-service-windows
Every write is an upsert-like "insert in a savepoint, update on conflict" (no check-then-act).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.messaging.models import PhoneContact
from app.stores.models import Store

SERVICE_WINDOW = timedelta(hours=24)
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})


def phone_key(phone: str) -> str:
    return hashlib.sha256(phone.strip().encode()).hexdigest()


def _contact(session: Session, store_id: int, channel: str, key: str) -> PhoneContact | None:
    stmt = select(PhoneContact).where(
        PhoneContact.store_id == store_id, PhoneContact.channel == channel, PhoneContact.phone_key == key
    )
    return session.scalar(stmt)


def _upsert(session: Session, store_id: int, channel: str, phone: str) -> PhoneContact:
    key = phone_key(phone)
    found = _contact(session, store_id, channel, key)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            row = PhoneContact(store_id=store_id, channel=channel, phone_key=key)
            session.add(row)
            session.flush()
            return row
    except IntegrityError:  # a concurrent callback created it
        again = _contact(session, store_id, channel, key)
        if again is None:
            raise
        return again


MARKETING_ONLY = "marketing_stop"  # WhatsApp's user_preferences "stop": marketing messages only


def phone_opted_out(session: Session, store: Store, channel: str, phone: str, purpose: str = "marketing") -> bool:
    row = _contact(session, store.id, channel, phone_key(phone))
    if row is None or row.opted_out_at is None:
        return False
    return purpose == "marketing" or row.opt_out_reason != MARKETING_ONLY


def record_opt_out(session: Session, store_id: int, channel: str, phone: str, reason: str, now: datetime) -> None:
    row = _upsert(session, store_id, channel, phone)
    if row.opted_out_at is None:
        row.opted_out_at, row.opt_out_reason = now, reason


def record_opt_in(session: Session, store_id: int, channel: str, phone: str) -> None:
    row = _upsert(session, store_id, channel, phone)
    row.opted_out_at, row.opt_out_reason = None, None


def record_inbound(session: Session, store_id: int, channel: str, phone: str, at: datetime) -> None:
    row = _upsert(session, store_id, channel, phone)
    if row.last_inbound_at is None or row.last_inbound_at < at:
        row.last_inbound_at = at


def in_service_window(session: Session, store_id: int, phone: str, now: datetime) -> bool:
    from app.messaging.models import WHATSAPP

    row = _contact(session, store_id, WHATSAPP, phone_key(phone))
    return row is not None and row.last_inbound_at is not None and now - row.last_inbound_at < SERVICE_WINDOW
