"""Sending one claimed SMS or WhatsApp outbox row (outbox.deliver hands phone rows here).

The outbox's lease and attempt rules are the e-mail's (outbox.py). Outcome per provider answer
(providers.py): accepted -> "sent" with the provider's id (receipts find the row by it, callbacks.py);
a permanent refusal -> "failed" and the e-mail fallback (fallback.py); Twilio 21610 (the number replied
STOP) also records the opt-out; a transient error -> back to "queued" with the outbox's backoff, "failed"
and the fallback once MAIL_MAX_ATTEMPTS is spent. WhatsApp outside the 24-hour window needs the approved
template named in WHATSAPP_TEMPLATES for this template and language; without one the row fails over to e-mail.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from jinja2 import TemplateError
from sqlalchemy.orm import Session

from app.messaging.channels import PermanentSendError, TransientSendError
from app.messaging.contacts import in_service_window, phone_opted_out, record_opt_out
from app.messaging.fallback import fallback_to_email
from app.messaging.models import CANCELLED, FAILED, QUEUED, SENT, SMS, SUPPRESSED, WHATSAPP, Message
from app.messaging.pacing import SendPacer
from app.messaging.phone_render import PhoneText, render_phone
from app.messaging.providers import TWILIO_OPTED_OUT, ProviderRefused, Sent, TwilioSms, WhatsAppCloud
from app.platform import outbox as platform_outbox
from app.platform.queue import get_redis
from app.stores.models import Store

log = logging.getLogger(__name__)


def _finish(message: Message, status: str, error: str | None, reason: str | None = None) -> None:
    message.status, message.locked_until, message.last_error = status, None, error
    if reason is not None:
        message.reason = reason


def whatsapp_template(config: Any, template: str, locale: str) -> str | None:
    names = (config.get("WHATSAPP_TEMPLATES") or {}).get(template)
    if not isinstance(names, dict):
        return None
    name = names.get(locale) or names.get(locale.split("_")[0])
    return name if isinstance(name, str) and name else None


def _send(message: Message, phone: str, text: PhoneText, config: Any, window_open: bool) -> Sent:
    if message.channel == SMS:
        pacer_key, rate = f"twilio:{config.get('TWILIO_MESSAGING_SERVICE_SID') or config.get('TWILIO_FROM')}", "TWILIO"
        SendPacer(get_redis()).wait_turn(pacer_key, float(config[f"{rate}_RATE_PER_SECOND"]))
        return TwilioSms(config).send(phone, text.text, f"{config['APP_URL']}/webhooks/twilio")
    SendPacer(get_redis()).wait_turn(
        f"whatsapp:{config['WHATSAPP_PHONE_NUMBER_ID']}", float(config["WHATSAPP_RATE_PER_SECOND"])
    )
    cloud = WhatsAppCloud(config)
    if window_open:
        return cloud.send_text(phone, text.text)
    name = whatsapp_template(config, message.template, message.locale)
    if name is None:
        raise ProviderRefused("whatsapp", "no_template")
    # Meta's language codes for our catalogues are the same two letters (en, pl, hu, kk, lv, th).
    return cloud.send_template(phone, name, message.locale.replace("-", "_"), text.whatsapp_params)


def deliver_phone(session: Session, message: Message, store: Store, *, config: Any, now: datetime) -> str:
    message_id, phone = message.id, message.to_phone
    if phone is None:  # the customer was erased after it was queued
        _finish(message, CANCELLED, None)
        session.commit()
        return CANCELLED
    if phone_opted_out(session, store, message.channel, phone, message.purpose):
        _finish(message, SUPPRESSED, None, "opted_out")
        fallback_to_email(session, store, message, "opted_out")
        session.commit()
        return SUPPRESSED
    try:
        text = render_phone(
            message.template, message.locale, message.context or {}, store_name=store.name or store.domain
        )
    except (TemplateError, ValueError, TypeError, IndexError, KeyError) as exc:
        _finish(message, FAILED, f"render: {type(exc).__name__}")
        fallback_to_email(session, store, message, "render")
        session.commit()
        return FAILED
    window_open = message.channel == WHATSAPP and in_service_window(session, store.id, phone, now)
    session.commit()  # no transaction held during the provider's answer
    outcome, error, sent, refused = SENT, None, None, None
    try:
        sent = _send(message, phone, text, config, window_open)
    except ProviderRefused as exc:
        outcome, error, refused = FAILED, f"permanent: {exc}", exc
    except PermanentSendError as exc:
        outcome, error = FAILED, f"permanent: {exc}"
    except TransientSendError as exc:
        outcome, error = QUEUED, f"transient: {exc}"
    message = session.get(Message, message_id)  # type: ignore[assignment]
    if message is None:
        return "skipped"
    if outcome == QUEUED and message.attempts >= int(config["MAIL_MAX_ATTEMPTS"]):
        outcome = FAILED
    _finish(message, outcome, error)
    if sent is not None:
        message.sent_at, message.provider_ref, message.delivery_status = now, sent.ref, sent.status
    elif outcome == QUEUED:
        base = float(config["MAIL_RETRY_BASE_SECONDS"])
        message.next_attempt_at = now + platform_outbox.backoff(message.attempts, base, 6 * 3600)
    else:
        if refused is not None and refused.provider_code == TWILIO_OPTED_OUT:
            record_opt_out(session, store.id, SMS, phone, "stop", now)
        fallback_to_email(session, store, message, error or "failed")
    session.commit()
    log.info(
        "messaging.delivery",
        extra={"message_id": message_id, "store_id": store.id, "status": outcome, "channel": message.channel},
    )
    return outcome
