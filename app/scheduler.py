"""The scheduler: one process, one tick every SCHEDULER_INTERVAL_SECONDS.

Each tick runs the steps in three phases, each step on its own (one failing never starves the others):
1. intake: the inbox sweep (expired leases back to pending; overdue deliveries re-enqueued, which is how webhooks
   accepted while Redis was down get processed), per-store upkeep (WooCommerce webhook health, order
   reconciliation), and what features register here (compliance adopts the requests parked in the inbox);
2. programmes: the features' due rows (loyalty points becoming spendable and expiring, redemptions, referral
   rewards, review requests), whose jobs write outbox rows;
3. delivery: the outboxes (e-mail, reviews written back to the stores).
Features add their steps in their init_app (`register_step(step, phase=...)`), so this module names none.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Literal

from flask import Flask
from sqlalchemy import CompoundSelect, Select

from app.extensions import db
from app.inbox import woo_upkeep
from app.inbox.ingest import kick_processing
from app.inbox.processing import overdue_count, release_expired_leases
from app.stores.models import Store

log = logging.getLogger(__name__)

Step = Callable[[Flask], Any]
Phase = Literal["intake", "programmes", "delivery"]


def tick(app: Flask) -> dict[str, int]:
    with app.app_context():
        try:
            released = release_expired_leases(db.session)
            overdue = overdue_count(db.session, timedelta(seconds=app.config["SWEEP_AFTER_SECONDS"]))
            kicked = 0
            if overdue or released:
                kicked = int(kick_processing(force=True))
            if overdue or released:
                log.info("scheduler.swept", extra={"overdue": overdue, "released": released, "kicked": kicked})
            return {"released": released, "overdue": overdue, "kicked": kicked}
        finally:
            db.session.remove()


def maintain_stores(app: Flask) -> None:
    """Enqueue per-store upkeep that is due (WooCommerce webhook health, order reconciliation)."""
    woo_upkeep.tick(app)


def for_each_active_store(
    app: Flask,
    run: Callable[[Any], dict[str, int]],
    *,
    enabled: Callable[[Any], bool],
    totals: dict[str, int],
    failure_key: str,
    due: Select[Any] | CompoundSelect | None = None,
) -> dict[str, int]:
    """A per-store scheduler step: `run(store)` for every active store where `enabled(store)`, one transaction
    each, summing the counts it returns. A store that fails is rolled back and logged; the others go on (the next
    tick retries it). `due`, when given, selects the ids of the stores that may have work (a superset, one subquery
    across stores): the others are not visited, so a tick with nothing due costs one query, not a lock and a
    commit per store (with a thousand stores a tick outlasted its interval)."""
    with app.app_context():
        try:
            query = db.select(Store.id).where(Store.status == "active").order_by(Store.id)
            if due is not None:
                query = query.where(Store.id.in_(due))
            store_ids = db.session.scalars(query)
            for store_id in store_ids.all():
                try:
                    store = db.session.get(Store, store_id)
                    if store is None or not enabled(store):
                        continue
                    for key, value in run(store).items():
                        totals[key] += value
                    db.session.commit()
                except Exception:  # noqa: BLE001  (one store's bad settings or a conflict: next tick retries)
                    db.session.rollback()
                    log.exception(failure_key, extra={"store_id": store_id})
        finally:
            db.session.remove()
    return totals


_STEPS: dict[Phase, list[Step]] = {"intake": [tick, maintain_stores], "programmes": [], "delivery": []}


def register_step(step: Step, *, phase: Phase) -> None:
    """Run `step(app)` every tick in `phase`, after the steps registered there before it (once: create_app runs
    more than once in one process)."""
    if step not in _STEPS[phase]:
        _STEPS[phase].append(step)


def steps() -> tuple[Step, ...]:
    return (*_STEPS["intake"], *_STEPS["programmes"], *_STEPS["delivery"])


def run_forever(app: Flask, once: bool = False) -> None:
    interval = app.config["SCHEDULER_INTERVAL_SECONDS"]
    while True:
        started = time.monotonic()
        for step in steps():
            try:
                step(app)
            except Exception:  # a step must never kill the loop (DB restarting, Redis away, a store down)
                log.exception("scheduler.tick_failed", extra={"step": step.__name__})
        if once:
            return
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
