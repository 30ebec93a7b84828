"""One transaction of a claim (inbox/batch.py): a group of store parts, or one store's part alone (a group of one).

With 1,000 stores a 2,000-row claim holds about two deliveries per store, and a transaction's fixed work (its
locks, its stores and deliveries read, a query per table of preloads, the derived work's reads, the inbox UPDATE,
the commit) cost ~30 statements whatever its size (bench/README.md, "bench/process_parts.py"). A group pays
that once for its stores:
- the stores' advisory locks in one statement, in ascending store id order (platform/locks.lock_stores: every
  transaction holding several takes them in that one order, so workers cannot deadlock), held to the commit.
  A group holds at most STORE_PART deliveries counting STORE_COST per store (inbox/batch.groups), so a store's
  lock is held about as long as for a part of its own;
- the stores and their history policies in one query, the deliveries in one;
- the preloads one query per table for all the stores (records/batch_rows.preload_group: `store_id IN (...)
  AND key IN (...)`, each row kept in its own store's maps), and the lazily read sets (deletion markers,
  redactions) for all the mapped stores at once;
- the derived work for all the stores (inbox/batch_derived.run_deferred_group), the followers through
  records/followers.reconcile_group (grouped reads where a follower has them, store by store otherwise);
- the inbox status update and the commit once.
What happens when a pass fails (rolled back, the parts alone, SAVEPOINTs, one by one) is inbox/batch.py's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

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

Part = tuple[int, list[int]]


def apply_group(
    session: Session, group: Sequence[Part], max_attempts: int, parsed: dict, *, savepoints: bool
) -> Counter[str]:
    """The group's parts (one store's part alone: a group of one) in one transaction under their stores' locks.
    Without SAVEPOINTs a delivery that fails raises, the caller rolls the pass back and tries it more carefully
    (inbox/batch.py); with them (savepoints=True, a group of one) it rolls back alone. No flush per delivery:
    the UPDATEs go out together, grouped by SQLAlchemy's unit of work."""
    store_ids = sorted(store_id for store_id, _ in group)
    lock_stores(session, store_ids)  # harmless for a store that is gone
    stores = read_stores(session, store_ids)  # a store missing: uninstalled and erased
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
    live = {store_id: deliveries for store_id, deliveries in by_store.items() if store_id in stores}
    outcomes: list[Outcome] = []
    events = {d.id: parse(d, parsed) for deliveries in live.values() for d in deliveries}  # once for every pass
    if live:
        batch_scope.begin(session)  # handlers defer and look rows up (records/batch_scope.py)
        batch_rows.preload_group(
            session, {store_id: list(all_events(events[d.id] for d in ds)) for store_id, ds in live.items()}
        )
    for store_id, deliveries in by_store.items():
        for delivery in deliveries:
            if store_id not in live:  # uninstalled and erased meanwhile
                outcomes.append((delivery, FAILED, True))
            else:  # without SAVEPOINTs an exception abandons the pass (inbox/batch._attempt)
                outcomes.append(apply_one(session, stores[store_id], delivery, events[delivery.id], savepoints))
    if live:
        batch_derived.run_deferred_group(session, [stores[store_id] for store_id in live])
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
