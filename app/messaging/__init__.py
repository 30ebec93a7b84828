"""The e-mail channel: an outbox of messages, rendered from templates in the recipient's language.

Features decide *when* to send and call this API inside their own transaction:

    enqueue_message(session, store, *, template, to, locale, context, dedupe_key,
                    customer_id=None, send_after=None) -> Message
        Writes a `messages` row in the caller's transaction (no SMTP here: the outbox pattern;
        a scheduler step and the `send_message` job deliver it). Idempotent per (store, dedupe_key):
        a second call returns the existing row, unchanged. The row is written as "suppressed"
        (kept, never sent) when the address unsubscribed from this store or the customer's e-mail
        consent is off. `locale` is the order's or customer's locale in any platform form
        ("pl", "pl-PL", "pt_BR"); see app/messaging/i18n.py for the resolution rule.
        `context` is JSON (dates become ISO strings); it must hold no secrets.
    cancel_messages(session, store, *, dedupe_prefix) -> int
        Cancels queued (and claimed, not yet sent) messages whose dedupe_key starts with the prefix,
        e.g. "review:order:123:" when order 123 is cancelled; returns how many.
    unsubscribe_url(store, email, locale=None) -> str
        The signed one-click link (also sent as the List-Unsubscribe header).
    is_suppressed(session, store, email) -> bool
    forget_messages(session, store, *, dedupe_keys) -> dict
        Erasure of messages a customer_id does not find (a shopper's words mailed to the merchant):
        their context and .eml copies go, the unsent are cancelled.

Consent rule: review requests, loyalty and referral mail are follow-ups to a purchase, not
marketing, so Customer.accepts_marketing is not consulted. They follow
Customer.email_consent (the store's per-customer consent, set from the platform or an import):
False suppresses, None (never asked) and True allow. An unsubscribe suppresses the address for
the store, whichever customer it belongs to; merchant alerts (no customer_id) honour it too.
Templates: each feature's templates/ folder, registered with api.register_templates (context keys in each
file's header comment); the shared layout and footer in app/messaging/templates/.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
from datetime import datetime
from email.utils import parseaddr
from functools import lru_cache
from typing import Any, cast

from flask import Flask, current_app
from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.messaging.i18n import resolve_locale
from app.messaging.models import CANCELLED, EMAIL, FAILED, QUEUED, SENDING, SUPPRESSED, EmailSuppression, Message
from app.messaging.render import TEMPLATE_NAMES
from app.platform.sql import get_in_store
from app.platform.types import utcnow
from app.records.models import Customer
from app.records.models.customer import normalise_email
from app.stores.models import Store

log = logging.getLogger(__name__)

__all__ = ["cancel_messages", "enqueue_message", "forget_messages", "is_suppressed", "suppress", "unsubscribe_url"]


def email_hash(email: str | None) -> str | None:
    """SHA-256 of the normalised address: how suppressions are keyed (no address kept in clear)."""
    key = normalise_email(email)
    return hashlib.sha256(key.encode()).hexdigest() if key else None


def _suppressed_hash(session: Session, store_id: int, digest: str) -> bool:
    stmt = select(EmailSuppression.id).where(EmailSuppression.store_id == store_id)
    return session.scalar(stmt.where(EmailSuppression.email_key == digest)) is not None


def is_suppressed(session: Session, store: Store, email: str) -> bool:
    digest = email_hash(email)
    return digest is not None and _suppressed_hash(session, store.id, digest)


def suppress(session: Session, store: Store, digest: str, reason: str) -> bool:
    """Record an unsubscribe by address hash; True when new."""
    if _suppressed_hash(session, store.id, digest):
        return False
    try:
        with session.begin_nested():
            session.add(EmailSuppression(store_id=store.id, email_key=digest, reason=reason))
    except IntegrityError:  # a concurrent unsubscribe of the same address
        return False
    log.info("messaging.suppressed", extra={"store_id": store.id, "reason": reason})
    return True


@lru_cache(maxsize=8)
def _domain(mail_from: str) -> str:
    """MAIL_FROM's domain: parsed once, not once per message (a batch of sends parsed it 550 times)."""
    return parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"


def _message_id(store_id: int, dedupe_key: str) -> str:
    """RFC 5322 Message-ID from the store and the dedupe key (unique per store), so a resend after a crash carries
    the same id and the row is written once with it: no UPDATE after the INSERT's id (bench/README.md, the
    delivery journey's queueing step). 96 bits of the key's digest keep ids unique within a store."""
    domain = _domain(current_app.config["MAIL_FROM"])
    digest = hashlib.sha256(f"{store_id}:{dedupe_key}".encode()).hexdigest()[:24]
    return f"<ppe.{store_id}.{digest}@{domain}>"


def enqueue_message(
    session: Session,
    store: Store,
    *,
    template: str,
    to: str,
    locale: str | None,
    context: dict[str, Any],
    dedupe_key: str,
    customer_id: int | None = None,
    send_after: datetime | None = None,
) -> Message:
    if template not in TEMPLATE_NAMES:
        raise ValueError(f"unknown template {template!r}")
    if not dedupe_key or len(dedupe_key) > 191:
        raise ValueError("dedupe_key must be 1-191 characters")
    existing = session.scalar(select(Message).where(Message.store_id == store.id, Message.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    customer = get_in_store(session, Customer, customer_id, store.id) if customer_id is not None else None
    if customer is None and customer_id is not None:
        raise ValueError("no such customer in this store")
    settings = store.settings or {}
    resolved = resolve_locale(locale, customer.locale if customer else None, settings.get("locale"))
    address = normalise_email(to)
    status, error = QUEUED, None
    if address is None:
        status, error = FAILED, "invalid recipient address"
    elif is_suppressed(session, store, address) or (customer is not None and customer.email_consent is False):
        status = SUPPRESSED
    message = Message(
        store_id=store.id,
        customer_id=customer.id if customer else None,
        channel=EMAIL,
        to_address=to.strip() if address else None,
        template=template,
        locale=resolved,
        context=json.loads(json.dumps(context, default=str)),  # what the job will see, dates as ISO strings
        dedupe_key=dedupe_key,
        status=status,
        attempts=0,
        last_error=error,
        next_attempt_at=send_after or utcnow(),
        message_id=_message_id(store.id, dedupe_key),
    )
    try:
        with session.begin_nested():  # a concurrent enqueue of the same key must not undo the caller's work
            session.add(message)
            session.flush()
    except IntegrityError:
        return session.scalars(
            select(Message).where(Message.store_id == store.id, Message.dedupe_key == dedupe_key)
        ).one()
    log.info("messaging.enqueued", extra={"store_id": store.id, "message_id": message.id, "status": status})
    return message


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def cancel_messages(session: Session, store: Store, *, dedupe_prefix: str) -> int:
    if not dedupe_prefix:
        raise ValueError("dedupe_prefix must not be empty (use the uninstall hook to cancel a whole store)")
    result = session.execute(
        update(Message)
        .where(
            Message.store_id == store.id,
            Message.status.in_((QUEUED, SENDING)),
            Message.dedupe_key.like(_like_prefix(dedupe_prefix), escape="\\"),
        )
        .values(status=CANCELLED, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    # DML returns a CursorResult (rowcount); execute() is typed Result
    return cast("CursorResult[Any]", result).rowcount or 0


def cancel_store_messages(session: Session, store: Store) -> int:
    """Uninstall hook: nothing queued for a store that removed us is sent."""
    result = session.execute(
        update(Message)
        .where(Message.store_id == store.id, Message.status.in_((QUEUED, SENDING)))
        .values(status=CANCELLED, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    # DML returns a CursorResult (rowcount); execute() is typed Result
    return cast("CursorResult[Any]", result).rowcount or 0


def forget_messages(session: Session, store: Store, *, dedupe_keys: list[str]) -> dict[str, int]:
    from app.messaging.outbox import forget_messages as forget

    return forget(session, store, dedupe_keys)


def unsubscribe_url(store: Store, email: str, locale: str | None = None) -> str:
    from app.messaging.unsubscribe import make_token

    return f"{current_app.config['APP_URL']}/email/unsubscribe/{make_token(store.id, email_hash(email) or '', locale)}"


def init_app(app: Flask) -> None:
    from app import scheduler
    from app.compliance.api import register_erasure_hook, register_personal_data, register_shop_erasure_hook
    from app.messaging.callback_tasks import schedule_callbacks
    from app.messaging.channel_settings import SECTION as CHANNELS_SECTION
    from app.messaging.models import QUEUED, SENDING
    from app.messaging.outbox import erase_mail_files, erase_store_mail_files
    from app.messaging.provider_webhooks import blueprint as provider_webhooks
    from app.messaging.store_settings import SECTIONS
    from app.messaging.tasks import schedule_messages
    from app.messaging.unsubscribe import blueprint
    from app.platform.metrics import register_outbox
    from app.stores.settings import register_section
    from app.stores.uninstall import UNINSTALL_HOOKS, register_uninstall_hook

    app.register_blueprint(blueprint)
    app.register_blueprint(provider_webhooks)  # /webhooks/twilio, /webhooks/whatsapp (provider_webhooks.py)
    for section in SECTIONS:  # branding, sender and reply-to, the store's language: `PATCH /store/settings`
        register_section(section)
    register_section(CHANNELS_SECTION)  # channel order, quiet hours, daily cap (channel_settings.py)
    importlib.import_module("app.messaging.dashboard")  # its section of the dashboard's Overview
    importlib.import_module("app.messaging.admin_costs")  # GET /admin/api/v1/messaging/costs
    importlib.import_module("app.messaging.dashboard_emails").register()  # the E-mails page
    scheduler.register_step(schedule_messages, phase="delivery")  # due messages claimed and sent
    scheduler.register_step(schedule_callbacks, phase="delivery")  # Twilio/WhatsApp receipts and inbound
    register_outbox("message", Message, Message.status.in_((QUEUED, SENDING)))  # ppe_outbox_depth at a scrape
    if cancel_store_messages not in UNINSTALL_HOOKS:
        register_uninstall_hook(cancel_store_messages)
        # customers/redact clears the recipient address and the template variables (names) of their messages.
        register_personal_data(Message, ("to_address", "to_phone", "context"))
        # The channel fields messaging reads on the customer (routing.py): the E.164 phone and its consents.
        channel_fields = ("phone_e164", "sms_consent", "sms_marketing_consent", "whatsapp_consent")
        register_personal_data(Customer, (*channel_fields, "whatsapp_marketing_consent", "preferred_channel"), "id")
        # The file channel's .eml copies: customers/redact deletes the customer's, shop/redact (which deletes the
        # store row) the store's.
        register_erasure_hook(erase_mail_files)
        register_shop_erasure_hook(erase_store_mail_files)
