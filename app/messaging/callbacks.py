"""What a stored provider callback means, applied by a worker (callback_tasks.py claims and runs them).

Receipts (Twilio's status callback: MessageSid, MessageStatus, ErrorCode; WhatsApp's `statuses`: id, status,
errors, pricing) update the message found by (channel, provider_ref). A status never goes backwards
(RANK: a late "sent" after "delivered" is ignored; a duplicate changes nothing). A "failed"/"undelivered"
receipt marks the row failed and falls back to e-mail once (fallback.py). Cost: Twilio's `price`/`price_unit`
(in the callback when present, else fetched from the Message resource once the status is final); WhatsApp's
`pricing` says billable and the category, not an amount, so the amount is WHATSAPP_PRICES[category] (the
merchant's rate card, in WHATSAPP_PRICES["currency"]); not billable costs 0.
Inbound (Twilio: From, Body, OptOutType; WhatsApp: `messages` and `user_preferences`) concerns every store that
has written to that number on that channel: opt-out words suppress the channel (contacts.py), opt-in words lift
it, WhatsApp's marketing "stop" suppresses marketing only, and any inbound WhatsApp message opens its 24-hour window.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.messaging.contacts import (
    MARKETING_ONLY,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    phone_key,
    record_inbound,
    record_opt_in,
    record_opt_out,
)
from app.messaging.fallback import fallback_to_email
from app.messaging.models import FAILED, SMS, WHATSAPP, Message, PhoneContact, ProviderCallback
from app.messaging.providers import TWILIO_OPTED_OUT, TwilioSms, parse_price
from app.records.phones import is_e164
from app.stores.models import Store

log = logging.getLogger(__name__)
RANK = {"accepted": 0, "scheduled": 0, "queued": 0, "sending": 1, "sent": 2, "delivered": 3, "undelivered": 3,
        "failed": 3, "read": 4}  # fmt: skip
FINAL_FAILURES = ("failed", "undelivered")


def _message(session: Session, channel: str, ref: str) -> Message | None:
    return session.scalars(select(Message).where(Message.channel == channel, Message.provider_ref == ref)).first()


def _receipt(session: Session, message: Message, status: str, error: Any) -> bool:
    """Apply a receipt; True when it is a (first) delivery failure."""
    if RANK.get(status, -1) <= RANK.get(message.delivery_status or "queued", 0):
        return False
    message.delivery_status = status
    if status not in FINAL_FAILURES:
        return False
    message.status, message.last_error = FAILED, f"receipt: {status} {error or ''}".strip()
    store = session.get(Store, message.store_id)
    if store is not None:
        fallback_to_email(session, store, message, f"receipt {status}")
    return True


def _stores_for(session: Session, channel: str, phone: str) -> list[int]:
    """The stores that wrote to this number on this channel (their messages, or a contact row of theirs)."""
    sent = select(Message.store_id).where(Message.channel == channel, Message.to_phone == phone)
    known = select(PhoneContact.store_id).where(
        PhoneContact.channel == channel, PhoneContact.phone_key == phone_key(phone)
    )
    return sorted(set(session.scalars(sent.distinct())) | set(session.scalars(known.distinct())))


def _inbound(session: Session, channel: str, phone: str, words: str, now: datetime, at: datetime) -> None:
    keyword = words.strip().upper()
    for store_id in _stores_for(session, channel, phone):
        record_inbound(session, store_id, channel, phone, at)
        if keyword in OPT_OUT_WORDS:
            record_opt_out(session, store_id, channel, phone, "stop", now)
        elif keyword in OPT_IN_WORDS:
            record_opt_in(session, store_id, channel, phone)
    if keyword in OPT_OUT_WORDS | OPT_IN_WORDS:
        log.info("messaging.opt_change", extra={"channel": channel, "keyword": keyword})


def handle_twilio(session: Session, body: bytes, config: Any, now: datetime) -> None:
    fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    status = fields.get("MessageStatus") or fields.get("SmsStatus") or "received"
    if status == "received":
        sender = fields.get("From", "")
        if is_e164(sender):
            words = fields.get("OptOutType") or fields.get("Body", "")
            _inbound(session, SMS, sender, words, now, now)
        return
    message = _message(session, SMS, fields.get("MessageSid", ""))
    if message is None:
        return
    error = fields.get("ErrorCode")
    _receipt(session, message, status, error)
    if error == str(TWILIO_OPTED_OUT) and message.to_phone:
        record_opt_out(session, message.store_id, SMS, message.to_phone, "stop", now)
    if message.cost is None and RANK.get(status, 0) >= 2:
        price = parse_price(fields.get("Price"), fields.get("PriceUnit"))
        if price is None and status in ("delivered", "undelivered", "failed") and message.provider_ref:
            price = TwilioSms(config).fetch_price(message.provider_ref)  # a transient error retries the callback
        if price is not None:
            message.cost, message.cost_currency = price


def _whatsapp_cost(config: Any, pricing: Any) -> tuple[Decimal, str] | None:
    if not isinstance(pricing, dict):
        return None
    prices = config.get("WHATSAPP_PRICES") or {}
    currency = str(prices.get("currency") or "USD").upper()
    if pricing.get("billable") is False:
        return Decimal("0"), currency
    try:
        amount = prices.get(str(pricing.get("category")))
        return (Decimal(str(amount)).quantize(Decimal("0.0001")), currency) if amount is not None else None
    except InvalidOperation:
        return None


def _at(value: Any, now: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return now


def handle_whatsapp(session: Session, body: bytes, config: Any, now: datetime) -> None:
    payload = json.loads(body)
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            for item in value.get("statuses") or []:
                message = _message(session, WHATSAPP, str(item.get("id", "")))
                if message is None:
                    continue
                errors = item.get("errors") or [{}]
                _receipt(session, message, str(item.get("status")), errors[0].get("code"))
                cost = _whatsapp_cost(config, item.get("pricing"))
                if message.cost is None and cost is not None:
                    message.cost, message.cost_currency = cost
            for item in value.get("messages") or []:
                phone = "+" + str(item.get("from", ""))
                if is_e164(phone):
                    text = (item.get("text") or {}).get("body") or (item.get("button") or {}).get("text") or ""
                    _inbound(session, WHATSAPP, phone, str(text), now, _at(item.get("timestamp"), now))
            for item in value.get("user_preferences") or []:
                phone = "+" + str(item.get("wa_id", ""))
                if not is_e164(phone) or item.get("category") != "marketing_messages":
                    continue
                for store_id in _stores_for(session, WHATSAPP, phone):
                    if item.get("value") == "stop":
                        record_opt_out(session, store_id, WHATSAPP, phone, MARKETING_ONLY, now)
                    elif item.get("value") == "resume":
                        record_opt_in(session, store_id, WHATSAPP, phone)


def handle(session: Session, callback: ProviderCallback, config: Any, now: datetime) -> None:
    (handle_twilio if callback.provider == "twilio" else handle_whatsapp)(session, callback.body, config, now)
