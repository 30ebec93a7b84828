"""Delivering the outbox: claim due messages with a lease, render and send each, record the outcome.

The pattern of inbox/processing.py: a claim marks rows "sending" with a lease
(`locked_until`) and bumps `attempts`, using FOR UPDATE SKIP LOCKED on
PostgreSQL so several schedulers or workers never take the same row. A worker
killed after its claim leaves the row "sending"; when the lease expires
`release_expired` returns it to "queued" and it is claimed again. The job is
given the attempt number it was claimed for, so a stale job (the one whose
lease expired) finds a newer attempt and does nothing: the message is sent once.
If a worker dies *after* the SMTP server accepted the message but before the
commit, the resend carries the same Message-ID, which receivers use to spot it.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import EmailPolicy, Policy
from email.utils import format_datetime, parseaddr
from typing import TYPE_CHECKING, Any, cast

from flask import current_app
from jinja2 import TemplateError
from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from app.messaging import email_hash, unsubscribe_url
from app.messaging.channels import Channel, FileChannel, PermanentSendError, TransientSendError
from app.messaging.models import CANCELLED, EMAIL, FAILED, QUEUED, SENDING, SENT, SUPPRESSED, Message
from app.messaging.render import Rendered, render
from app.messaging.samples import is_test
from app.messaging.store_settings import email_settings
from app.platform import outbox as platform_outbox
from app.platform.sql import get_in_store
from app.stores.models import Store

if TYPE_CHECKING:
    from collections.abc import Iterable
    from email._header_value_parser import TokenList
    from email.errors import MessageDefect

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)
MAX_LINE = 998  # RFC 5322 section 2.1.1: the hard limit of a line, CRLF excluded


class UrlListHeader(UnstructuredHeader, BaseHeader):
    """List-Unsubscribe (RFC 2369 https://www.rfc-editor.org/rfc/rfc2369#section-2): `<URL>`s, sent as they are.

    Python's policy folds any header line longer than max_line_length (78); a URL has no whitespace to
    fold at, so the unstructured-header folder turns the whole value into RFC 2047 encoded-words
    (`=?utf-8?q?=3Chttps...`). RFC 2047 section 5 allows encoded-words in text, comments and phrases only,
    never in a URL, so receivers do not read the link and offer no one-click unsubscribe (RFC 8058
    https://www.rfc-editor.org/rfc/rfc8058#section-3.1).
    A larger max_line_length for the whole message would also stop folding Subject and the addresses,
    so only these headers fold differently: each `<URL>` is kept whole on one line (78 is a SHOULD, 998
    the limit), and a list of them is folded only after the commas between them (RFC 5322 section 2.2.3:
    https://www.rfc-editor.org/rfc/rfc5322#section-2.2.3). A value that cannot fit 998 is refused when
    set (ValueError: the message fails at render instead of going out mangled).
    """

    max_count = 1

    def init(self, name: str, *, parse_tree: TokenList, defects: Iterable[MessageDefect]) -> None:
        super().init(name, parse_tree=parse_tree, defects=defects)
        if not str(self).isascii() or max(map(len, self._fold_lines(MAX_LINE))) > MAX_LINE:
            raise ValueError(f"{name} cannot be sent unencoded on a header line")

    def _fold_lines(self, width: int) -> list[str]:
        first, *rest = re.split(r"(?<=>)\s*,\s*(?=<)", str(self).strip())  # comma-separated <URL>s
        lines = [f"{self.name}: {first}"]
        for item in rest:
            if len(lines[-1]) + 2 + len(item) <= width:
                lines[-1] += f", {item}"
            else:
                lines[-1] += ","
                lines.append(f" {item}")
        return lines

    def fold(self, *, policy: Policy) -> str:
        return policy.linesep.join(self._fold_lines(policy.max_line_length or MAX_LINE)) + policy.linesep


_headers = HeaderRegistry()
for _name in ("List-Unsubscribe", "List-Unsubscribe-Post"):
    _headers.map_to_type(_name, UrlListHeader)
#: The policy of every message built here: email.policy.default's settings, with the list headers above.
MAIL_POLICY = EmailPolicy(header_factory=_headers)


def release_expired(session: Session, now: datetime) -> int:
    result = session.execute(
        update(Message)
        .where(Message.status == SENDING, Message.locked_until < now)
        .values(status=QUEUED, locked_until=None)
    )
    session.commit()
    # DML returns a CursorResult (rowcount); execute() is typed Result
    return cast("CursorResult[Any]", result).rowcount or 0


def claim_due(session: Session, *, now: datetime, limit: int, lease: timedelta) -> list[platform_outbox.Claimed]:
    """Claim up to `limit` due queued messages of active stores; returns (message id, attempt, store id)."""
    return platform_outbox.claim_due(
        session,
        Message,
        now=now,
        limit=limit,
        lease=lease,
        join=(Store, Store.id == Message.store_id),
        where=[
            Message.status == QUEUED,
            or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
            Store.status == "active",
        ],
        order_by=[Message.next_attempt_at, Message.id],
        values={"status": SENDING},
    )


def sender(store: Store, mail_from: str) -> Address:
    """From: the store's override in Store.settings["email"] ({"from_name", "from_address"}), validated
    (store_settings.py). Without one we send from MAIL_FROM in the store's name."""
    default_name, default_address = parseaddr(mail_from)
    chosen = email_settings(store.settings)
    name = chosen["from_name"] or store.name or default_name or store.domain
    username, _, domain = str(chosen["from_address"] or default_address).rpartition("@")
    return Address(display_name=name, username=username, domain=domain)


def build_email(message: Message, store: Store, rendered: Rendered, config: Any, now: datetime) -> EmailMessage:
    email = EmailMessage(policy=MAIL_POLICY)
    email["From"] = sender(store, config["MAIL_FROM"])
    reply_to = email_settings(store.settings)["reply_to"]
    if reply_to:  # a shopper's answer goes to the merchant, not to our relay's address
        email["Reply-To"] = reply_to
    email["To"] = message.to_address
    # A merchant's test send (samples.send_test) says so, so it is never taken for a real shopper's message.
    email["Subject"] = f"[TEST] {rendered.subject}" if is_test(message) else rendered.subject
    email["Date"] = format_datetime(now)
    email["Message-ID"] = message.message_id
    link = unsubscribe_url(store, message.to_address or "", message.locale)
    email["List-Unsubscribe"] = f"<{link}>"
    email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058 one-click
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies to us
    email.set_content(rendered.text)
    email.add_alternative(rendered.html, subtype="html")
    return email


def _finish(message: Message, status: str, error: str | None) -> None:
    message.status = status
    message.locked_until = None
    message.last_error = error


def deliver(
    session: Session,
    message_id: int,
    store_id: int,
    attempt: int | None,
    *,
    channel: Channel,
    config: Any,
    now: datetime,
) -> str:
    """Send one claimed message; returns its new status ("skipped" when it is not ours to send)."""
    from app.messaging import _suppressed_hash

    message = get_in_store(session, Message, message_id, store_id)
    if message is None or message.status != SENDING or (attempt is not None and message.attempts != attempt):
        session.rollback()
        return "skipped"
    store = session.get(Store, message.store_id)
    if store is not None and store.status == "active" and message.channel != EMAIL:
        from app.messaging.phone_delivery import deliver_phone

        return deliver_phone(session, message, store, config=config, now=now)
    digest = email_hash(message.to_address)
    if store is None or store.status != "active" or digest is None:
        _finish(message, CANCELLED, None)  # uninstalled, or the recipient was erased
        session.commit()
        return CANCELLED
    if _suppressed_hash(session, store.id, digest):  # unsubscribed after it was queued
        _finish(message, SUPPRESSED, None)
        session.commit()
        return SUPPRESSED
    try:
        rendered = render(
            message.template,
            message.locale,
            message.context or {},
            store_name=store.name or store.domain,
            store_settings=store.settings,
            unsubscribe_url=unsubscribe_url(store, message.to_address or "", message.locale),
        )
        email = build_email(message, store, rendered, config, now)
    except (TemplateError, ValueError, TypeError) as exc:  # a caller's bad context: retrying cannot help
        _finish(message, FAILED, f"render: {type(exc).__name__}")
        session.commit()
        log.warning(
            "messaging.render_failed",
            extra={"store_id": store.id, "message_id": message_id, "reason": f"render: {type(exc).__name__}"},
        )
        return FAILED
    session.commit()  # no transaction (and no SQLite lock) held during the SMTP conversation
    outcome, error = SENT, None
    try:
        channel.send(email)
    except PermanentSendError as exc:
        outcome, error = FAILED, f"permanent: {exc}"
    except TransientSendError as exc:
        outcome, error = QUEUED, f"transient: {exc}"
    message = session.get(Message, message_id)
    if message is None:
        return "skipped"
    if outcome == QUEUED and message.attempts >= int(config["MAIL_MAX_ATTEMPTS"]):
        outcome = FAILED
    _finish(message, outcome, error)
    if outcome == SENT:
        message.sent_at = now
    elif outcome == QUEUED:
        base = float(config["MAIL_RETRY_BASE_SECONDS"])
        message.next_attempt_at = now + platform_outbox.backoff(message.attempts, base, MAX_BACKOFF.total_seconds())
    session.commit()
    log.info(
        "messaging.delivery",
        extra={"message_id": message_id, "store_id": message.store_id, "status": outcome, "channel": channel.name},
    )
    return outcome


def mail_folder(config: Any) -> FileChannel:
    """The file channel's folder (MAIL_DIR), whichever channel sends now (files from before SMTP_HOST stay)."""
    return FileChannel(config["MAIL_DIR"])


def erase_mail_files(session: Session, store: Store, customer_ids: list[int]) -> dict[str, int]:
    """customers/redact hook (compliance/erasure.py register_erasure_hook): delete the .eml copies of these
    customers' messages, found through their rows (a row keeps store, customer and Message-ID after erasure)."""
    if not customer_ids:
        return {"mail_files_deleted": 0}
    ids = session.scalars(
        select(Message.message_id).where(Message.store_id == store.id, Message.customer_id.in_(customer_ids))
    )
    deleted = mail_folder(current_app.config).forget(ids)
    log.info("messaging.mail_files_erased", extra={"store_id": store.id, "count": deleted})
    return {"mail_files_deleted": deleted}


def erase_store_mail_files(session: Session, store: Store) -> dict[str, int]:
    """shop/redact hook (compliance/shop_redact.py register_shop_erasure_hook): every .eml copy of the store's
    messages, found by their names' store prefix."""
    deleted = mail_folder(current_app.config).forget_store(store.id)
    log.info("messaging.mail_files_erased", extra={"store_id": store.id, "count": deleted})
    return {"mail_files_deleted": deleted}


def forget_messages(session: Session, store: Store, dedupe_keys: list[str]) -> dict[str, int]:
    """Erase what these messages say (their template variables) and their .eml copies; those not yet sent are
    cancelled. For a feature whose messages carry a customer's words to someone else (the merchant), which the
    customer_id-keyed erasure cannot find: compliance's customers/redact hook of that feature calls it."""
    if not dedupe_keys:
        return {"messages_forgotten": 0, "mail_files_deleted": 0}
    scope = (Message.store_id == store.id, Message.dedupe_key.in_(dedupe_keys))
    ids = session.scalars(select(Message.message_id).where(*scope)).all()
    session.execute(
        update(Message)
        .where(*scope, Message.status.in_((QUEUED, SENDING)))
        .values(status=CANCELLED, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    result = session.execute(
        update(Message).where(*scope).values(context=None).execution_options(synchronize_session=False)
    )
    deleted = mail_folder(current_app.config).forget(ids)
    # DML returns a CursorResult (rowcount); execute() is typed Result
    return {"messages_forgotten": cast("CursorResult[Any]", result).rowcount or 0, "mail_files_deleted": deleted}
