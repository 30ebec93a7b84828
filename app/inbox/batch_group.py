"""A group of small store parts of one claim (inbox/batch.py), applied in one transaction.

With 1,000 stores a 2,000-row claim holds about two deliveries per store, and a store part's fixed work (its
lock, its store and deliveries read, a query per table of preloads, the derived work's reads, the inbox UPDATE,
the commit) cost ~30 statements whatever its size (bench/README.md, "bench/process_parts.py"). A group pays
that once for its stores:
- the stores' advisory locks in one statement, in ascending store id order (platform/locks.lock_stores: every
  transaction holding several takes them in that one order, so workers cannot deadlock), held to the commit.
  A group holds at most STORE_PART deliveries (and GROUP_STORES stores), so a store's lock is held no longer
  than for a part of its own;
- the stores and their history policies in one query, the deliveries in one;
- the preloads one query per table for all the stores (records/batch_rows.preload_group: `store_id IN (...)
  AND key IN (...)`, each row kept in its own store's maps), and the lazily read sets (deletion markers,
  redactions) for all the mapped stores at once;
- the derived work per group where it is generic (inbox/batch_derived.run_deferred_group), the followers store
  by store;
- the inbox status update and the commit once.
Failure semantics are the store part's: the first pass runs without SAVEPOINTs, and if anything in it fails
the group is rolled back and each of its parts is applied as it would be alone (inbox/batch._process_store:
again without SAVEPOINTs, then a SAVEPOINT per delivery, then one by one), so a bad store costs its group
a second pass and never blocks or loses another store's deliveries. A delivery's effects and its `done`
commit together (exactly once); a crash before the commit leaves every delivery of the group under its lease.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.inbox import batch_derived
from app.inbox.batch_apply import Outcome, all_events, apply_one, parse, record_outcomes
from app.inbox.models import FAILED, PROCESSING, WebhookDelivery
from app.platform.locks import lock_stores
from app.platform.sql import in_keys
from app.records import batch_rows, batch_scope
from app.records.history import POLICY_COLUMNS, known_policy
from app.records.models import HistoryImport
from app.stores.models import Store

log = logging.getLogger("app.inbox.batch")  # the batch's logger: its retries are watched as one (tests/helpers.py)

Part = tuple[int, list[int]]
StorePath = Callable[[Session, int, list[int], int, dict], Counter[str]]


def process_group(
    session: Session, group: Sequence[Part], max_attempts: int, parsed: dict, alone: StorePath
) -> Counter[str]:
    """Apply the group's parts in one transaction; if that fails, each part on its own (`alone`)."""
    try:
        return _apply_group(session, group, max_attempts, parsed)
    except Exception as exc:  # noqa: BLE001  (the group as a whole: its parts one at a time, more carefully)
        session.rollback()
        log.info(
            "inbox.batch_retry",
            extra={
                "stores": [store_id for store_id, _ in group],
                "size": sum(len(ids) for _, ids in group),
                "group": True,
                "error": type(exc).__name__,
            },
        )
    finally:
        batch_scope.end(session)
    counts: Counter[str] = Counter()
    for store_id, ids in group:
        counts += alone(session, store_id, ids, max_attempts, parsed)
    return counts


def _apply_group(session: Session, group: Sequence[Part], max_attempts: int, parsed: dict) -> Counter[str]:
    store_ids = sorted(store_id for store_id, _ in group)
    lock_stores(session, store_ids)  # harmless for a store that is gone
    stores = read_stores(session, store_ids)
    counts: Counter[str] = Counter()
    wanted = [delivery_id for _, ids in group for delivery_id in ids]
    found = session.scalars(
        select(WebhookDelivery)
        .where(in_keys(session, WebhookDelivery.store_id, store_ids), in_keys(session, WebhookDelivery.id, wanted))
        .order_by(WebhookDelivery.id)
    ).all()
    counts["skipped"] += len(wanted) - len(found)  # gone since the claim (the store's data erased)
    by_store: dict[int, list[WebhookDelivery]] = {store_id: [] for store_id in store_ids}
    for delivery in found:
        if delivery.status == PROCESSING:
            by_store[delivery.store_id].append(delivery)
        else:
            counts["skipped"] += 1  # released by the sweeper and claimed by another worker meanwhile
    outcomes: list[Outcome] = []
    batch_scope.begin(session)  # handlers defer and look rows up (records/batch_scope.py)
    events = {d.id: parse(d, parsed) for d in found}  # parsed once for every pass
    batch_rows.preload_group(
        session,
        {
            store_id: list(all_events(events[d.id] for d in deliveries))
            for store_id, deliveries in by_store.items()
            if store_id in stores
        },
    )
    for store_id, deliveries in by_store.items():
        store = stores.get(store_id)
        for delivery in deliveries:
            if store is None:  # uninstalled and erased meanwhile
                outcomes.append((delivery, FAILED, True))
            else:  # an exception abandons the group's pass (process_group)
                outcomes.append(apply_one(session, store, delivery, events[delivery.id], False))
    batch_derived.run_deferred_group(session, [stores[s] for s in store_ids if s in stores])
    counts += record_outcomes(session, store_ids, outcomes, max_attempts)
    session.commit()
    return counts


def read_stores(session: Session, store_ids: Sequence[int]) -> dict[int, Store]:
    """The stores' rows, read once under their locks (an uninstall applied by another worker is seen), with
    their history policies (records/history.py, which the followers ask for) in the same statement: a store's
    part is often one to three deliveries when many stores share a batch, so each statement per part counts
    (bench/README.md, "bench/process_parts.py"). inbox/batch's store-by-store path reads its one store here too."""
    found: dict[int, Store] = {}
    for row in session.execute(
        select(Store, *POLICY_COLUMNS)
        .outerjoin(HistoryImport, HistoryImport.store_id == Store.id)
        .where(in_keys(session, Store.id, store_ids))
        .execution_options(populate_existing=True)
    ):
        known_policy(session, row[0].id, tuple(row[1:]))
        found[row[0].id] = row[0]
    return found
