"""What a store part (inbox/batch.py) and a group of store parts (inbox/batch_group.py) do alike: parse a
delivery once, apply it (with or without its SAVEPOINT), and write the outcomes in the caller's transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import orjson
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.inbox.models import DONE, WebhookDelivery
from app.inbox.pipeline import apply_event
from app.inbox.processing import _CONFLICT_RETRIES, _finished, finish, mark_failure
from app.platform.sql import chunks, in_keys
from app.records import batch_rows
from app.stores.models import Store
from connectors import get_connector
from connectors.events import Event
from connectors.exceptions import ConnectorError

#: (delivery, DONE or the exception, whether the failure is permanent)
Outcome = tuple[WebhookDelivery, str | Exception, bool]


def apply_one(
    session: Session, store: Store, delivery: WebhookDelivery, events: list[Event] | Exception, savepoints: bool
) -> Outcome:
    if isinstance(events, Exception):  # the body did not parse: nothing was written
        return delivery, events, isinstance(events, ConnectorError)
    if not savepoints:
        for event in events:  # an exception here abandons the pass (inbox/batch.py)
            apply_event(session, store, event, delivery)
        return delivery, DONE, False
    last: Exception | None = None
    for _ in range(_CONFLICT_RETRIES):
        try:
            with session.begin_nested():
                for event in events:
                    apply_event(session, store, event, delivery)
            return delivery, DONE, False
        except Exception as exc:  # noqa: BLE001  (a bug or an outage: retried with backoff, never dropped)
            batch_rows.forget(session, store.id)  # rolled back: what the maps learned may be gone
            if not isinstance(exc, IntegrityError | OperationalError):
                return delivery, exc, isinstance(exc, ConnectorError)
            last = exc  # a conflicting insert or a deadlock: this delivery alone, once more
    assert last is not None
    return delivery, last, False


def parse(delivery: WebhookDelivery, parsed: dict[int, list[Event] | Exception]) -> list[Event] | Exception:
    """The delivery's events, parsed once for every pass over it (the parse error, when it does not parse)."""
    if delivery.id not in parsed:
        try:
            parsed[delivery.id] = get_connector(delivery.platform).parse_event(
                delivery.topic, orjson.loads(delivery.body)
            )
        except Exception as exc:  # noqa: BLE001  (recorded as the delivery's outcome, as an apply error would be)
            parsed[delivery.id] = exc
    return parsed[delivery.id]


def all_events(parsed: Iterable[list[Event] | Exception]) -> Iterator[Event]:
    for events in parsed:
        if not isinstance(events, Exception):
            yield from events


def record_outcomes(
    session: Session, store_ids: Sequence[int], outcomes: Sequence[Outcome], max_attempts: int
) -> Counter[str]:
    """Each delivery's status, in the caller's transaction (its effects and its `done` commit together): the
    failures one by one, the applied ones as one UPDATE per 500 for all the stores (each named in the filter)."""
    counts: Counter[str] = Counter()
    done: list[int] = []
    for delivery, outcome, permanent in outcomes:
        if isinstance(outcome, Exception):
            counts[mark_failure(delivery, outcome, permanent=permanent, max_attempts=max_attempts)] += 1
        elif outcome == DONE:
            done.append(delivery.id)
        else:
            finish(delivery, outcome, None)
            counts[outcome] += 1
    for chunk in chunks(done):  # not ORM changes: the unit of work spent more on these rows than on some records
        session.execute(
            update(WebhookDelivery)
            .where(in_keys(session, WebhookDelivery.store_id, store_ids), in_keys(session, WebhookDelivery.id, chunk))
            .values(_finished(DONE, None))
            .execution_options(synchronize_session=False)
        )
    counts[DONE] += len(done)
    return counts
