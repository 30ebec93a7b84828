"""send_many: send_to_customer for a batch of messages in a handful of statements instead of ten or so each.

A scheduler step that queues hundreds of messages (the delivery journey, journeys/send.py) would otherwise pay
per message: the dedupe-key lookup, the customer, the suppression, the cap's taken slots, two savepoints, the
insert and the Message-ID update (bench/README.md, bench/process_delivery.py). Here each of those facts is read
once for the batch, the rows are written in one savepoint with multi-row statements, and the cap's slots are
given in Python from the slots already taken. The rules are send_to_customer's (routing.py), the same functions;
only the reads are grouped. If the batch's savepoint meets a unique key (a concurrent sender took a dedupe key
or a cap slot between the reads and the write), it is rolled back whole and each message goes through
send_to_customer, which resolves such races one row at a time: the concurrency guarantee stays the unique keys'.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.messaging.cap_slots import next_free, slot_row
from app.messaging.channel_settings import channel_settings
from app.messaging.contacts import phone_key
from app.messaging.models import (
    QUEUED,
    SUPPRESSED,
    TRANSACTIONAL,
    DailyCapSlot,
    EmailSuppression,
    Message,
    PhoneContact,
)
from app.messaging.routing import Facts, build_message, check_arguments, choose_channel, local_day, send_to_customer
from app.platform.sql import chunks
from app.platform.types import utcnow
from app.records.models import Customer
from app.stores.models import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Send:
    """One send_to_customer call's arguments."""

    customer_id: int
    template: str
    context: dict[str, Any]
    dedupe_key: str
    purpose: str = TRANSACTIONAL
    locale: str | None = None
    capped: bool = False
    urgent: bool = True
    send_after: datetime | None = None


def _read_facts(session: Session, store: Store, customers: list[Customer]) -> Facts:
    from app.messaging import email_hash

    hashes = {h for h in (email_hash(c.email) for c in customers) if h}
    phones = {phone_key(c.phone_e164) for c in customers if c.phone_e164}
    suppressed: set[str] = set()
    for part in chunks(sorted(hashes)):
        stmt = select(EmailSuppression.email_key).where(EmailSuppression.store_id == store.id)
        suppressed.update(session.scalars(stmt.where(EmailSuppression.email_key.in_(part))))
    opted_out: dict[tuple[str, str], str | None] = {}
    for part in chunks(sorted(phones)):
        contacts = select(PhoneContact).where(PhoneContact.store_id == store.id, PhoneContact.phone_key.in_(part))
        for row in session.scalars(contacts.where(PhoneContact.opted_out_at.is_not(None))):
            opted_out[(row.channel, row.phone_key)] = row.opt_out_reason
    return Facts(suppressed, opted_out)


def _taken_slots(session: Session, store: Store, pairs: set[tuple[int, date]]) -> dict[tuple[int, date], set[int]]:
    taken: dict[tuple[int, date], set[int]] = defaultdict(set)
    for part in chunks(sorted({customer for customer, _ in pairs})):
        stmt = select(DailyCapSlot.customer_id, DailyCapSlot.day, DailyCapSlot.slot).where(
            DailyCapSlot.store_id == store.id, DailyCapSlot.customer_id.in_(part)
        )
        for customer_id, day, slot in session.execute(stmt.where(DailyCapSlot.day.in_({d for _, d in pairs}))):
            taken[(customer_id, day)].add(slot)
    return taken


def send_many(session: Session, store: Store, sends: list[Send]) -> list[Message]:
    """The messages, in the order of `sends` (an existing row for a dedupe key already spent)."""
    from app.messaging import _message_id

    for send in sends:
        check_arguments(send.template, send.purpose, send.dedupe_key)
    existing: dict[str, Message] = {}
    for part in chunks(sorted({s.dedupe_key for s in sends})):
        stmt = select(Message).where(Message.store_id == store.id, Message.dedupe_key.in_(part))
        existing.update((m.dedupe_key, m) for m in session.scalars(stmt))
    customers: dict[int, Customer] = {}
    for part in chunks(sorted({s.customer_id for s in sends})):
        found = select(Customer).where(Customer.store_id == store.id, Customer.id.in_(part))
        customers.update((c.id, c) for c in session.scalars(found))
    if any(s.customer_id not in customers for s in sends):
        raise ValueError("no such customer in this store")
    facts = _read_facts(session, store, list(customers.values()))
    new: dict[str, tuple[Send, Message]] = {}
    for send in sends:
        if send.dedupe_key in existing or send.dedupe_key in new:
            continue
        customer = customers[send.customer_id]
        channel = choose_channel(session, store, customer, send.purpose, send.template, facts)
        message = build_message(
            store, customer, channel, send.template, send.context, send.dedupe_key, send.purpose, send.locale,
            send.send_after, send.urgent,
        )  # fmt: skip
        new[send.dedupe_key] = (send, message)
    try:
        _write(session, store, list(new.values()), _message_id)
    except IntegrityError:  # a concurrent sender won a key between our reads and this write: one at a time
        log.info("messaging.batch_fallback", extra={"store_id": store.id, "reason": "unique_key", "count": len(new)})
        return [_one(session, store, s) for s in sends]
    written = {key: message for key, (_, message) in new.items()}
    return [existing.get(s.dedupe_key) or written[s.dedupe_key] for s in sends]


def _write(session: Session, store: Store, rows: list[tuple[Send, Message]], message_id: Callable[..., str]) -> None:
    """Each message is INSERTed once, final: its Message-ID comes from its dedupe key and its cap decision from
    the slots read before, so nothing is UPDATEd after (the queueing step's cost is its statements)."""
    if not rows:
        return
    cap = channel_settings(store.settings)["daily_cap"]
    capped = [m for send, m in rows if send.capped and m.status == QUEUED]
    days = {(m.customer_id, local_day(store, m.next_attempt_at or utcnow())) for m in capped}
    taken = _taken_slots(session, store, {(c, d) for c, d in days if c is not None})
    slots: list[tuple[Message, tuple[int, date], int]] = []
    for message in capped:
        key = (message.customer_id or 0, local_day(store, message.next_attempt_at or utcnow()))
        free = next_free(taken[key], cap)
        if free is None:
            message.status, message.reason = SUPPRESSED, "daily_cap"
            continue
        slots.append((message, key, free))
    for _, message in rows:
        message.message_id = message_id(store.id, message.dedupe_key)
    with session.begin_nested():
        session.add_all([m for _, m in rows])
        session.flush()  # one multi-row INSERT ... RETURNING id, which the slots name
        session.add_all([slot_row(store, message, key[1], slot) for message, key, slot in slots])
        session.flush()
    for _, m in rows:
        log.info(
            "messaging.enqueued",
            extra={"store_id": store.id, "message_id": m.id, "status": m.status, "channel": m.channel},
        )


def _one(session: Session, store: Store, send: Send) -> Message:
    return send_to_customer(
        session, store, customer_id=send.customer_id, template=send.template, context=send.context,
        dedupe_key=send.dedupe_key, purpose=send.purpose, locale=send.locale, capped=send.capped, urgent=send.urgent,
        send_after=send.send_after,
    )  # fmt: skip
