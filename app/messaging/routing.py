"""send_to_customer: one message to a customer on the channel they can and may be reached on.

    send_to_customer(session, store, *, customer_id, template, context, dedupe_key,
                     purpose="transactional", locale=None, send_after=None, capped=False, urgent=True) -> Message

- Channel: the customer's preferred_channel, then the store's `channels.order` (channel_settings.py); the first
  one that is configured (its provider's settings), has an address (e-mail, E.164 phone) and consent for this
  purpose (`allowed`) and is not opted out (e-mail unsubscribe, SMS STOP, WhatsApp opt-out) is used. None: the
  row is written "suppressed" with reason "no_channel" (kept, so the caller's dedupe key stays spent).
- Quiet hours (store's time zone, Store.timezone, UTC when unknown): marketing, and what the caller marks
  `urgent=False`, is held (next_attempt_at moved to the window's end), never dropped.
- `capped=True`: the customer's daily cap (channels.daily_cap, per local day of the send time) is taken as a
  slot row with a unique key (models.DailyCapSlot; the rule is cap_slots.py's, send_many's too) in the same
  savepoint as the message, so two concurrent sends can never both take the last slot; over the cap the row is
  written "suppressed", reason "daily_cap".
- Idempotent per (store, dedupe_key): a second call returns the first row unchanged.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.messaging.cap_slots import take_slot
from app.messaging.channel_settings import channel_settings, quiet_window
from app.messaging.contacts import MARKETING_ONLY, phone_key, phone_opted_out
from app.messaging.i18n import resolve_locale
from app.messaging.models import (
    EMAIL,
    MARKETING,
    PURPOSES,
    QUEUED,
    SMS,
    SUPPRESSED,
    TRANSACTIONAL,
    WHATSAPP,
    Message,
)
from app.messaging.phone_render import has_phone_text
from app.messaging.render import TEMPLATE_NAMES
from app.platform.sql import get_in_store
from app.platform.types import utcnow
from app.records.models import Customer
from app.records.models.customer import normalise_email
from app.records.phones import is_e164
from app.stores.models import Store

log = logging.getLogger(__name__)


def configured(channel: str, config: Any) -> bool:
    if channel == SMS:
        return bool(config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN")) and bool(
            config.get("TWILIO_FROM") or config.get("TWILIO_MESSAGING_SERVICE_SID")
        )
    if channel == WHATSAPP:
        return bool(config.get("WHATSAPP_ACCESS_TOKEN") and config.get("WHATSAPP_PHONE_NUMBER_ID"))
    return channel == EMAIL


class Facts:
    """What consent needs to know, read for a whole batch at once (batch_send.py); None reads per call."""

    def __init__(self, suppressed: set[str], opted_out: dict[tuple[str, str], str | None]) -> None:
        self.suppressed = suppressed  # e-mail hashes
        self.opted_out = opted_out  # (channel, phone key) -> the opt-out's reason


def _email_suppressed(session: Session, store: Store, email: str, facts: Facts | None) -> bool:
    from app.messaging import email_hash, is_suppressed

    if facts is None:
        return is_suppressed(session, store, email)
    return email_hash(email) in facts.suppressed


def _phone_opted_out(session: Session, store: Store, channel: str, phone: str, purpose: str, facts: Facts | None):
    if facts is None:
        return phone_opted_out(session, store, channel, phone, purpose)
    key = (channel, phone_key(phone))
    if key not in facts.opted_out:
        return False
    return purpose == MARKETING or facts.opted_out[key] != MARKETING_ONLY


def allowed(
    session: Session, store: Store, customer: Customer, channel: str, purpose: str, facts: Facts | None = None
) -> bool:
    """Consent per channel and purpose (the rule in docs/messaging.md "Channels and consent")."""
    marketing = purpose == MARKETING
    if channel == EMAIL:
        if normalise_email(customer.email) is None or customer.email_consent is False:
            return False
        if marketing and customer.accepts_marketing is not True:
            return False
        return not _email_suppressed(session, store, customer.email or "", facts)
    phone = customer.phone_e164 or ""
    if not is_e164(customer.phone_e164) or _phone_opted_out(session, store, channel, phone, purpose, facts):
        return False
    if channel == SMS:
        return customer.sms_marketing_consent is True if marketing else customer.sms_consent is not False
    if channel == WHATSAPP:  # Meta requires an opt-in for any business-initiated message
        return customer.whatsapp_consent is True and (not marketing or customer.whatsapp_marketing_consent is True)
    return False


def choose_channel(
    session: Session, store: Store, customer: Customer, purpose: str, template: str, facts: Facts | None = None
) -> str | None:
    """The customer's preference first, then the store's order; only channels the store turned on (e-mail always),
    and a phone channel only for a template with a phone text (phone_render.has_phone_text)."""
    enabled = channel_settings(store.settings)["order"]
    if not has_phone_text(template):
        enabled = [c for c in enabled if c == EMAIL]
    candidates = dict.fromkeys([customer.preferred_channel, *enabled, EMAIL])  # ordered, distinct
    for channel in candidates:
        if channel is None or (channel not in enabled and channel != EMAIL):
            continue
        if configured(channel, current_app.config) and allowed(session, store, customer, channel, purpose, facts):
            return channel
    return None


def store_zone(store: Store) -> ZoneInfo:
    try:
        return ZoneInfo(store.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def after_quiet_hours(store: Store, when: datetime) -> datetime:
    """`when`, or the end of the store's quiet window when `when` falls inside it (a window may span midnight)."""
    window = quiet_window(store.settings)
    if window is None:
        return when
    start, end = window
    local = when.astimezone(store_zone(store))
    clock = local.time().replace(tzinfo=None)
    inside = (start <= clock < end) if start < end else (clock >= start or clock < end)
    if not inside:
        return when
    release = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if release <= local:
        release = (local + timedelta(days=1)).replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
        # a DST gap or fold at midnight is not a concern at HH:MM release times; ZoneInfo resolves the offset
    return release.astimezone(when.tzinfo)


def local_day(store: Store, when: datetime) -> date:
    return when.astimezone(store_zone(store)).date()


def _existing(session: Session, store: Store, dedupe_key: str) -> Message | None:
    return session.scalar(select(Message).where(Message.store_id == store.id, Message.dedupe_key == dedupe_key))


def build_message(
    store: Store,
    customer: Customer,
    channel: str | None,
    template: str,
    context: dict[str, Any],
    dedupe_key: str,
    purpose: str,
    locale: str | None,
    send_after: datetime | None,
    urgent: bool,
) -> Message:
    """The outbox row for a chosen channel (None: kept "suppressed", so the dedupe key stays spent)."""
    status, reason = (QUEUED, None) if channel else (SUPPRESSED, "no_channel")
    clock = current_app.config.get("MAIL_CLOCK")  # tasks.mail_now: the test clock when one is set
    when = send_after or (clock() if clock else utcnow())
    if purpose == MARKETING or not urgent:
        when = after_quiet_hours(store, when)
    settings = store.settings or {}
    return Message(
        store_id=store.id,
        customer_id=customer.id,
        channel=channel or EMAIL,
        purpose=purpose,
        to_address=customer.email if normalise_email(customer.email) else None,
        to_phone=customer.phone_e164 if channel in (SMS, WHATSAPP) else None,
        template=template,
        locale=resolve_locale(locale, customer.locale, settings.get("locale")),
        context=json.loads(json.dumps(context, default=str)),
        dedupe_key=dedupe_key,
        status=status,
        reason=reason,
        attempts=0,
        next_attempt_at=when,
    )


def check_arguments(template: str, purpose: str, dedupe_key: str) -> None:
    if template not in TEMPLATE_NAMES:
        raise ValueError(f"unknown template {template!r}")
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}")
    if not dedupe_key or len(dedupe_key) > 191:
        raise ValueError("dedupe_key must be 1-191 characters")


def send_to_customer(
    session: Session,
    store: Store,
    *,
    customer_id: int,
    template: str,
    context: dict[str, Any],
    dedupe_key: str,
    purpose: str = TRANSACTIONAL,
    locale: str | None = None,
    send_after: datetime | None = None,
    capped: bool = False,
    urgent: bool = True,
) -> Message:
    from app.messaging import _message_id

    check_arguments(template, purpose, dedupe_key)
    existing = _existing(session, store, dedupe_key)
    if existing is not None:
        return existing
    customer = get_in_store(session, Customer, customer_id, store.id)
    if customer is None:
        raise ValueError("no such customer in this store")
    channel = choose_channel(session, store, customer, purpose, template)
    message = build_message(
        store, customer, channel, template, context, dedupe_key, purpose, locale, send_after, urgent
    )
    message.message_id = _message_id(store.id, dedupe_key)
    try:
        with session.begin_nested():  # the message and its cap slot together, or neither
            session.add(message)
            session.flush()
            if (
                capped
                and message.status == QUEUED
                and not take_slot(session, store, message, local_day(store, message.next_attempt_at or utcnow()))
            ):
                message.status, message.reason = SUPPRESSED, "daily_cap"
                session.flush()
    except IntegrityError:  # a concurrent call with the same dedupe key won
        found = _existing(session, store, dedupe_key)
        if found is None:
            raise
        return found
    log.info(
        "messaging.enqueued",
        extra={"store_id": store.id, "message_id": message.id, "status": message.status, "channel": message.channel},
    )
    return message
