"""What other features use of messaging besides the outbox calls in its __init__ (enqueue_message,
cancel_messages, unsubscribe_url, is_suppressed): one import point (.importlinter's public_api contract).

- send_to_customer(session, store, *, customer_id, template, context, dedupe_key, purpose="transactional",
  locale=None, send_after=None, capped=False, urgent=True) -> Message: the customer's channel (e-mail, SMS,
  WhatsApp) by preference and consent per purpose, quiet hours for marketing and non-urgent updates (held),
  an optional per-customer daily cap (suppressed with reason "daily_cap" over it). See routing.py.
- send_many(session, store, [Send(customer_id, template, context, dedupe_key, purpose, locale, capped, urgent)])
  -> [Message]: the same for a batch, its reads and writes grouped (batch_send.py): for scheduler steps that queue
  hundreds at once.
- choose_channel(session, store, customer, purpose, template) -> channel | None: the channel send_to_customer
  would pick now (None: no channel this customer may be reached on for that purpose), for a caller that must not
  spend anything (a coupon) on someone it cannot reach.
- EMAIL, SMS, WHATSAPP, TRANSACTIONAL, MARKETING, SUPPRESSED, SENT: the values a caller compares with.

- mail_now(app) -> datetime: "now" for mail, the test clock when one is set.
- branding(settings) and render_page(name, locale, **values): a shopper-facing page in the store's look and
  the customer's language (the review form).
- register_templates(folder, names): a feature's message templates (in its init_app).
- resolve_locale(*candidates): the supported language for a platform locale ("pt_BR" -> "pt").
- translations(locale): that language's gettext catalogue, for text not rendered from a template (printed cards).
- template_names(), sample_context(name, store), preview(name, locale, store) -> Rendered, send_test(session,
  store, name, locale, to, nonce) (TestLimitReached): the merchant's e-mail previews and test sends (samples.py).
- Message and its statuses: for a feature that reads back what it queued (review requests' caps).
"""

from __future__ import annotations

from app.messaging.batch_send import Send, send_many
from app.messaging.i18n import resolve_locale, translations
from app.messaging.models import (
    CANCELLED,
    EMAIL,
    MARKETING,
    QUEUED,
    SENDING,
    SENT,
    SMS,
    SUPPRESSED,
    TRANSACTIONAL,
    WHATSAPP,
    Message,
)
from app.messaging.render import branding, register_templates, render_page
from app.messaging.routing import choose_channel, send_to_customer
from app.messaging.samples import TestLimitReached, preview, sample_context, send_test, template_names
from app.messaging.tasks import mail_now

__all__ = [
    "CANCELLED",
    "EMAIL",
    "MARKETING",
    "QUEUED",
    "SENDING",
    "SENT",
    "SMS",
    "SUPPRESSED",
    "TRANSACTIONAL",
    "WHATSAPP",
    "Message",
    "Send",
    "TestLimitReached",
    "branding",
    "choose_channel",
    "mail_now",
    "register_templates",
    "render_page",
    "resolve_locale",
    "send_many",
    "send_to_customer",
    "translations",
    "preview",
    "sample_context",
    "send_test",
    "template_names",
]
