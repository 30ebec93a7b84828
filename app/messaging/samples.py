"""The merchant's look at the messages: every registered template rendered with a sample context, in any shipped
language, with the store's branding; and a test send of one to an address the merchant types.

Each template's sample context sits beside it (`<name>.sample.json`, the keys its header comment lists), written
by the feature that owns the template; `{shop}` in a value is the store's storefront URL, `{app}` our APP_URL.
A test send is a real message through the outbox (enqueue_message), its dedupe key `test:<the form's nonce>`
(a form sent twice queues one message) and its subject marked `[TEST]` by build_email. At most
MAIL_TEST_LIMIT (default "5/3600": five an hour) per store: one Redis INCR of a window's counter, so concurrent
sends cannot both slip under the limit.
"""

from __future__ import annotations

import json
import time
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import AppError
from app.messaging.models import Message
from app.messaging.render import TEMPLATE_NAMES, Rendered, render
from app.platform.queue import get_redis
from app.platform.redis_keys import store_tag
from app.stores.models import Store

TEST_PREFIX = "test:"
DEFAULT_TEST_LIMIT = "5/3600"


class TestLimitReached(AppError):
    status, code = 429, "test_send_limit"


def template_names() -> list[str]:
    return sorted(TEMPLATE_NAMES)


@cache
def _sample(name: str) -> str:
    path = TEMPLATE_NAMES[name] / f"{name}.sample.json"
    return path.read_text(encoding="utf-8")


def storefront_url(store: Store) -> str:
    domain = store.domain.rstrip("/")
    return domain if domain.startswith(("https://", "http://")) else f"https://{domain}"


def sample_context(name: str, store: Store) -> dict[str, Any]:
    """The template's sample context with the store's own addresses (KeyError: no such template)."""
    app_url = str(current_app.config.get("APP_URL", "")).rstrip("/")
    text = _sample(name).replace("{shop}", storefront_url(store)).replace("{app}", app_url)
    context: dict[str, Any] = json.loads(text)
    return context


def preview(name: str, locale: str, store: Store) -> Rendered:
    """What `name` looks like in `locale` for this store: its branding, its name, the sample context."""
    return render(
        name,
        locale,
        sample_context(name, store),
        store_name=store.name or store.domain,
        store_settings=store.settings,
        unsubscribe_url=f"{str(current_app.config.get('APP_URL', '')).rstrip('/')}/email/unsubscribe/preview",
    )


def _limit() -> tuple[int, int]:
    requests, _, seconds = str(current_app.config.get("MAIL_TEST_LIMIT") or DEFAULT_TEST_LIMIT).partition("/")
    return int(requests), int(seconds or 3600)


def take_test_slot(store: Store) -> None:
    """Count one test send of the store in the current window; TestLimitReached past the limit."""
    requests, seconds = _limit()
    window = int(time.time()) // seconds
    key = f"mail:test:{store_tag(store.id)}:{window}"  # the store's hash tag: one Redis Cluster slot per store
    pipe = get_redis().pipeline()
    pipe.incr(key)
    pipe.expire(key, seconds + 60)
    count = int(pipe.execute()[0])
    if count > requests:
        raise TestLimitReached(f"at most {requests} test e-mails per {seconds // 60} minutes", retry_after=seconds)


def send_test(session: Session, store: Store, name: str, locale: str, to: str, nonce: str) -> tuple[Message, bool]:
    """Queue the template's sample to `to` (the caller commits): (the message, whether it is new). The form's
    nonce is the dedupe key, so the same form sent again returns its message and takes no slot of the limit."""
    from app.messaging import enqueue_message

    if name not in TEMPLATE_NAMES:
        raise ValueError(f"unknown template {name!r}")
    key = f"{TEST_PREFIX}{nonce}"[:191]
    sent = session.scalar(select(Message).where(Message.store_id == store.id, Message.dedupe_key == key))
    if sent is not None:
        return sent, False
    take_test_slot(store)
    return enqueue_message(
        session,
        store,
        template=name,
        to=to,
        locale=locale,
        context=sample_context(name, store),
        dedupe_key=key,
    ), True


def is_test(message: Message) -> bool:
    return message.dedupe_key.startswith(TEST_PREFIX)
