"""The daily cap's slot rule, in one place for send_to_customer (routing.py) and send_many (batch_send.py).

A capped message takes the lowest slot 0..cap-1 of its customer's local day that is not taken yet, as a
DailyCapSlot row. The row's unique key (store, customer, day, slot) is what holds the cap under concurrency
(models.DailyCapSlot; DESIGN.md, "Messaging"): two senders that read the same slot as free cannot both insert
it, the second one's savepoint meets the key. With no slot left the caller suppresses the message, reason
"daily_cap".

- `next_free(taken, cap)`: the rule itself: the lowest slot below `cap` not in `taken` (then marked taken), or
  None over the cap. send_many decides every message of a batch from one read of the taken slots.
- `slot_row(store, message, day, slot)`: the DailyCapSlot row (the message must have its id: flushed). send_many
  writes its rows in the batch's savepoint; a slot a concurrent sender took meanwhile fails the batch on the
  unique key and its messages go one at a time through send_to_customer, hence take_slot.
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


def next_free(taken: set[int], cap: int) -> int | None:
    """The lowest slot below `cap` not in `taken`, now marked taken; None when all are."""
    slot = next((slot for slot in range(cap) if slot not in taken), None)
    if slot is not None:
        taken.add(slot)
    return slot


def slot_row(store: Store, message: Message, day: date, slot: int) -> DailyCapSlot:
    return DailyCapSlot(store_id=store.id, customer_id=message.customer_id, day=day, slot=slot, message_id=message.id)


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
    while (slot := next_free(taken, cap)) is not None:
        try:
            with session.begin_nested():
                session.add(slot_row(store, message, day, slot))
                session.flush()
            return True
        except IntegrityError:  # a concurrent send took this slot first (it stays marked taken): try the next
            continue
    return False
