"""The daily cap's slot rule, in one place for send_to_customer (routing.py) and send_many (batch_send.py).

A capped message takes the lowest slot 0..cap-1 of its customer's local day that is not taken yet, as a
DailyCapSlot row. The row's unique key (store, customer, day, slot) is what holds the cap under concurrency
(models.DailyCapSlot; DESIGN.md, "Messaging"): two senders that read the same slot as free cannot both insert
it, the second one's savepoint meets the key. With no slot left the caller suppresses the message, reason
"daily_cap".

- `add_slot(session, store, message, day, taken, cap)`: adds the row of the lowest free slot (and marks it in
  `taken`), or says False when there is none. It does not flush: the caller's savepoint does, and meets the
  unique key if a concurrent sender took the slot between the caller's read and this write (send_many then
  sends one at a time, through take_slot).
- `take_slot(session, store, message, day)`: send_to_customer's: reads the day's taken slots and inserts the
  lowest free one in a savepoint of its own; a slot a concurrent send took first is skipped for the next.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.messaging.channel_settings import channel_settings
from app.messaging.models import DailyCapSlot, Message
from app.stores.models import Store


def _next_free(taken: set[int], cap: int) -> int | None:
    """The lowest slot below `cap` not in `taken`, now marked taken; None when all are."""
    slot = next((slot for slot in range(cap) if slot not in taken), None)
    if slot is not None:
        taken.add(slot)
    return slot


def _row(store: Store, message: Message, day: date, slot: int) -> DailyCapSlot:
    return DailyCapSlot(store_id=store.id, customer_id=message.customer_id, day=day, slot=slot, message_id=message.id)


def add_slot(session: Session, store: Store, message: Message, day: date, taken: set[int], cap: int) -> bool:
    """Add (unflushed) the row of the lowest slot free in `taken` for `message` on `day`; False over the cap."""
    slot = _next_free(taken, cap)
    if slot is None:
        return False
    session.add(_row(store, message, day, slot))
    return True


def take_slot(session: Session, store: Store, message: Message, day: date) -> bool:
    """A free slot below the cap for this message, or False; each try is its own savepoint (the unique key)."""
    cap = channel_settings(store.settings)["daily_cap"]
    taken = set(
        session.scalars(
            select(DailyCapSlot.slot).where(
                DailyCapSlot.store_id == store.id,
                DailyCapSlot.customer_id == message.customer_id,
                DailyCapSlot.day == day,
            )
        )
    )
    while (slot := _next_free(taken, cap)) is not None:
        try:
            with session.begin_nested():
                session.add(_row(store, message, day, slot))
                session.flush()
            return True
        except IntegrityError:  # a concurrent send took this slot first (it stays marked taken): try the next
            continue
    return False
