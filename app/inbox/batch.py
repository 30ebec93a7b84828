"""Apply a claimed batch of deliveries: one transaction per group of store parts, a SAVEPOINT per delivery where
needed.

Per-delivery transactions cost a commit (an fsync on PostgreSQL), an advisory lock and a store reload each.
Here the claim is cut by store: a store's part is at most STORE_PART deliveries, and small parts of several
stores make a group (`groups`: at 1,000 stores a claim holds about two deliveries per store, and the fixed work
of a transaction is then paid once per group, not once per store). Each group is one transaction, applied by
inbox/batch_group.apply_group (a part alone is a group of one: the same code for one store and for many):
- the stores' advisory locks are taken in one statement, in ascending id order, and held until the group
  commits (no cycle between workers);
- a first pass applies the deliveries with no SAVEPOINT and no per-delivery flush. If it fails, it is rolled
  back and each of the group's parts is applied alone, as follows (`_process_part`): again with no SAVEPOINT,
  then with a SAVEPOINT per delivery, where a failing delivery rolls back alone and is parked or retried
  exactly as in inbox/processing.process_delivery while its neighbours commit, then (the part cannot be
  applied or committed either way: the connection dropped, a serialisation error) one by one, each delivery
  in its own transaction. A part alone skips the second no-SAVEPOINT pass (it would be its first again). A
  bad store costs its group a second pass and never holds back or loses another store's deliveries;
- what is derived from an order's rows (its refunded amount and dates, its points, its review request)
  and customer totals are recomputed once per order / customer per group, before the commit
  (inbox/batch_derived.py);
- each delivery's status is written in its group's transaction, so its effects and its `done` commit together
  (exactly once); a crash before a commit leaves that group's deliveries under their lease, to be released and
  re-applied, while the groups committed before it stay done.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence

from sqlalchemy.orm import Session

from app.inbox import batch_group
from app.inbox.batch_group import Part
from app.inbox.processing import process_delivery
from app.platform.outbox import Claimed
from app.records import batch_scope
from connectors.events import Event

log = logging.getLogger(__name__)


#: At most this many of one store's deliveries per transaction. The store's advisory lock is held for its part
#: of a batch, and a redemption in that store (loyalty/redemptions.py takes the same lock) waits for it: 500
#: bounds that wait to about a quarter of a second whatever the batch size and the mix of stores (bench/process.py
#: measures it with bench/lockprobe.py), while many stores' parts still share one claimed batch.
STORE_PART = 500


#: A store's own cost in a group (inbox/batch_group.py), in deliveries: some followers still run store by store
#: within a group (records/followers.reconcile_group), and a store part of two deliveries costs about as much CPU
#: as 16 deliveries of one store (bench/README.md, "bench/process_parts.py"). A group holds parts while its
#: deliveries plus this per store stay within STORE_PART, so its locks are held about as long as a part of
#: STORE_PART deliveries of one store.
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
        counts += _process_group(session, group, max_attempts, parsed)
    return counts


def groups(parts: list[Part], size: int, store_cost: int) -> Iterator[list[Part]]:
    """The store parts (in store id order) cut into runs whose deliveries plus `store_cost` per store stay within
    `size`, each run one transaction: a store's lock is held about as long as for `size` deliveries of its own,
    as a part alone is. A store with more than `size` deliveries gives parts of `size`, each a run of its own."""
    run: list[Part] = []
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


def _process_group(session: Session, group: list[Part], max_attempts: int, parsed: dict) -> Counter[str]:
    """A group in one transaction; if that fails, each of its parts alone (a part alone is a group of one, and
    its first pass is this one: it is not run twice)."""
    if len(group) > 1:
        counts = _attempt(session, group, max_attempts, parsed, savepoints=False)
        if counts is not None:
            return counts
    counts = Counter()
    for part in group:
        counts += _process_part(session, part, max_attempts, parsed)
    return counts


def _process_part(session: Session, part: Part, max_attempts: int, parsed: dict) -> Counter[str]:
    """One store's part: without SAVEPOINTs, then with one per delivery, then one by one."""
    for savepoints in (False, True):
        counts = _attempt(session, [part], max_attempts, parsed, savepoints=savepoints)
        if counts is not None:
            return counts
    # One by one, each delivery in its own transaction with its derived work inline.
    store_id, ids = part
    return Counter(process_delivery(session, delivery_id, store_id, max_attempts) for delivery_id in ids)


def _attempt(
    session: Session, group: list[Part], max_attempts: int, parsed: dict, *, savepoints: bool
) -> Counter[str] | None:
    """The group's counts once committed; None when the pass failed (rolled back, to be tried more carefully)."""
    try:
        return batch_group.apply_group(session, group, max_attempts, parsed, savepoints=savepoints)
    except Exception as exc:  # noqa: BLE001  (the pass as a whole: its parts again, more carefully)
        session.rollback()
        log.info(
            "inbox.batch_retry",
            extra={
                "stores": [store_id for store_id, _ in group],
                "size": sum(len(ids) for _, ids in group),
                "savepoints": savepoints,
                "error": type(exc).__name__,
            },
        )
        return None
    finally:
        batch_scope.end(session)
