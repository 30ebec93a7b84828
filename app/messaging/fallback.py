"""A failed SMS or WhatsApp message falls back to e-mail, once.

The fallback is a new outbox row (channel e-mail, the same template, locale and context) whose dedupe key is
derived from the failed row's, so however many times a failure is seen (the send's error answer, then a failed
receipt; a receipt delivered twice) there is one fallback row, and an e-mail never falls back further. The
e-mail's own consent and unsubscribe rules apply (enqueue_message writes it "suppressed" when they say no).
"""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy.orm import Session

from app.messaging.models import EMAIL, Message
from app.stores.models import Store

log = logging.getLogger(__name__)


def fallback_key(dedupe_key: str) -> str:
    key = f"{dedupe_key}|email"
    if len(key) <= 191:
        return key
    return f"{dedupe_key[:100]}|{hashlib.sha256(dedupe_key.encode()).hexdigest()[:40]}|email"


def fallback_to_email(session: Session, store: Store, message: Message, reason: str) -> Message | None:
    """Queue the e-mail copy of a failed phone message (idempotent); None when there is nothing to fall back to."""
    from app.messaging import enqueue_message

    if message.channel == EMAIL or not message.to_address or message.context is None:
        return None  # an e-mail, or the customer was erased (their address and the context went)
    copy = enqueue_message(
        session,
        store,
        template=message.template,
        to=message.to_address,
        locale=message.locale,
        context=message.context,
        dedupe_key=fallback_key(message.dedupe_key),
        customer_id=message.customer_id,
    )
    copy.purpose = message.purpose
    log.info(
        "messaging.fallback",
        extra={"store_id": store.id, "message_id": message.id, "fallback_id": copy.id, "reason": reason},
    )
    return copy
