"""Apply a claimed batch of deliveries: one transaction per store, a SAVEPOINT per delivery where needed.

Per-delivery transactions cost a commit (an fsync on PostgreSQL), an advisory
lock and a store reload each. Here a store's part of a batch is one transaction:
- deliveries are grouped by store; the store's advisory lock is taken once and
  held until that part commits (one lock per transaction: no cycle between workers);
- a first pass applies the store's deliveries with no SAVEPOINT and no per-delivery flush; if one fails, the
  part is rolled back and redone with a SAVEPOINT per delivery, where a failing delivery rolls back alone and
  is parked or retried exactly as in inbox/processing.process_delivery, while its neighbours commit;
- what is derived from an order's rows (its refunded amount and dates, its points, its review request)
  and customer totals are recomputed once per order / customer per part, before the commit
  (inbox/batch_derived.py);
- each delivery's status is written in its store's transaction, so its effects and its `done` commit together
  (exactly once); a crash before a commit leaves that store's deliveries under their lease, to be released and
  re-applied, while the stores committed before it stay done.
If a store's part cannot be applied or committed either way (the connection dropped, a serialisation error),
its deliveries are applied one by one, each in its own transaction.
Small parts of several stores are applied together, one transaction per group (inbox/batch_group.py, `groups`):
the fixed work of a part is then paid once per group, not once per store.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.inbox import batch_derived, batch_group
from app.inbox.batch_apply import Outcome, all_events, apply_one, parse, record_outcomes
from app.inbox.models import FAILED, PROCESSING, WebhookDelivery
from app.inbox.processing import process_delivery
from app.platform.locks import lock_store
from app.platform.outbox import Claimed
from app.platform.sql import in_keys
from app.records import batch_rows, batch_scope
from connectors.events import Event

log = logging.getLogger(__name__)


#: At most this many of one store's deliveries per transaction. The store's advisory lock is held for its part
#: of a batch, and a redemption in that store (loyalty/redemptions.py takes the same lock) waits for it: 500
#: bounds that wait to about a quarter of a second whatever the batch size and the mix of stores (bench/process.py
#: measures it with bench/lockprobe.py), while many stores' parts still share one claimed batch.
STORE_PART = 500


#: A store's own cost in a group (inbox/batch_group.py), in deliveries: the followers still run store by store
#: within a group, and a store part of two deliveries costs about as much CPU as 16 deliveries of one store
#: (bench/README.md, "bench/process_parts.py"). A group holds parts while its deliveries plus this per store stay
#: within STORE_PART, so its locks are held about as long as a part of STORE_PART deliveries of one store.
STORE_COST = 16


def process_batch(session: Session, claimed: Sequence[Claimed], max_attempts: int) -> Counter[str]:
    """Apply claimed deliveries (with their stores, as the claim returned them), one transaction per store
    part, or per group of small store parts; returns a count per outcome. Never raises for a bad delivery. A
    store's lock is held for its own part of the batch (its group's) only, not for the other stores'."""
    by_store: dict[int, list[int]] = defaultdict(list)
    for delivery_id, _, store_id in claimed:
        assert store_id is not None  # webhook_inbox.store_id is not null
        by_store[store_id].append(delivery_id)
    counts: Counter[str] = Counter()
    parsed: dict[int, list[Event] | Exception] = {}
    parts = [(store_id, sorted(by_store[store_id])) for store_id in sorted(by_store)]
    for group in groups(parts, STORE_PART, STORE_COST):
        if len(group) == 1:
            counts += _process_store(session, *group[0], max_attempts, parsed)
        else:
            counts += batch_group.process_group(session, group, max_attempts, parsed, _process_store)
    return counts


def groups(parts: list[tuple[int, list[int]]], size: int, store_cost: int) -> Iterator[list[tuple[int, list[int]]]]:
    """The store parts (in store id order) cut into runs whose deliveries plus `store_cost` per store stay within
    `size`, each run one transaction: a store's lock is held about as long as for `size` deliveries of its own,
    as a part alone is. A store with more than `size` deliveries gives parts of `size`, each a run of its own."""
    run: list[tuple[int, list[int]]] = []
    held = 0
    for store_id, ids in parts:
        for start in range(0, len(ids), size):
            part = ids[start : start + size]
            if run and (held + len(part) + store_cost > size or run[-1][0] == store_id):
                yield run
                run, held = [], 0
            run.append((store_id, part))
            held += len(part) + store_cost
    if run:
        yield run


def _process_store(session: Session, store_id: int, ids: list[int], max_attempts: int, parsed: dict) -> Counter[str]:
    for savepoints in (False, True):
        try:
            return _apply_store(session, store_id, ids, max_attempts, parsed, savepoints=savepoints)
        except Exception as exc:  # noqa: BLE001  (the store's part as a whole: try again more carefully)
            session.rollback()
            log.info(
                "inbox.batch_retry",
                extra={"store_id": store_id, "size": len(ids), "savepoints": savepoints, "error": type(exc).__name__},
            )
        finally:
            _stop(session)
    # One by one, each delivery in its own transaction with its derived work inline.
    return Counter(process_delivery(session, delivery_id, store_id, max_attempts) for delivery_id in ids)


def _stop(session: Session) -> None:
    batch_scope.end(session)


def _apply_store(
    session: Session, store_id: int, ids: list[int], max_attempts: int, parsed: dict, *, savepoints: bool
) -> Counter[str]:
    """One store's deliveries of the batch, in one transaction under the store's lock. The first pass runs
    without SAVEPOINTs: one delivery that fails raises, and the part is redone with a SAVEPOINT per delivery
    (savepoints=True), where it fails alone. Two round trips per delivery saved, and no flush per delivery: the
    UPDATEs go out together, grouped by SQLAlchemy's unit of work."""
    counts: Counter[str] = Counter()
    outcomes: list[Outcome] = []
    lock_store(session, store_id)  # harmless for a store that is gone
    store = batch_group.read_stores(session, [store_id]).get(store_id)  # None: uninstalled and erased
    deliveries = []
    found = list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.store_id == store_id, in_keys(session, WebhookDelivery.id, ids))
            .order_by(WebhookDelivery.id)
        )
    )
    counts["skipped"] += len(ids) - len(found)  # gone since the claim (the store's data erased)
    for delivery in found:
        if delivery.status == PROCESSING:
            deliveries.append(delivery)
        else:
            counts["skipped"] += 1  # released by the sweeper and claimed by another worker meanwhile
    if store is None:
        outcomes += [(delivery, FAILED, True) for delivery in deliveries]
    else:
        batch_scope.begin(session)  # handlers defer and look rows up (records/batch_scope.py)
        events = {d.id: parse(d, parsed) for d in deliveries}  # parsed once for every pass
        batch_rows.preload(session, store_id, list(all_events(events.values())))
        for delivery in deliveries:
            outcomes.append(apply_one(session, store, delivery, events[delivery.id], savepoints))
        batch_derived.run_deferred(session, store)
    counts += record_outcomes(session, [store_id], outcomes, max_attempts)
    session.commit()
    return counts
