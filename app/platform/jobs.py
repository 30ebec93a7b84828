"""RQ jobs and the scheduler. Jobs take ids (never ORM objects) and are idempotent.

A job runs in a plain `rq worker` process, which has no Flask app: `job_app()`
builds one per process on first use, from the same environment as the web.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context

_app: Flask | None = None


def job_app() -> Flask:
    global _app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _app is None:
        from app import create_app

        _app = create_app()
        _tune_gc()
    return _app


# A batch builds and drops tens of thousands of ORM objects and rows. With CPython's default gen-0 threshold (700
# net allocations) the collector ran hundreds of times per batch, each pass walking the app's long-lived objects
# too: 8-11% of the worker's CPU per delivery (bench/README.md, process step 4). Freezing what exists once the app is
# built moves those objects out of every future collection; a higher gen-0 threshold makes the passes rarer. Only
# reference cycles wait longer to be freed (refcounting frees everything else at once), and a worker's memory is
# bounded by one batch. https://docs.python.org/3/library/gc.html#gc.freeze
GC_THRESHOLDS = (50_000, 20, 100)


def _tune_gc() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def for_each_active_store(
    app: Flask,
    run: Callable[[Any], dict[str, int]],
    *,
    enabled: Callable[[Any], bool],
    totals: dict[str, int],
    failure_key: str,
) -> dict[str, int]:
    """A per-store scheduler step: `run(store)` for every active store where `enabled(store)`, one transaction
    each, summing the counts it returns. A store that fails is rolled back and logged; the others go on (the next
    tick retries it)."""
    from app.extensions import db
    from app.stores.models import Store

    with app.app_context():
        try:
            store_ids = db.session.scalars(db.select(Store.id).where(Store.status == "active").order_by(Store.id))
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
                    logging.getLogger(__name__).exception(failure_key, extra={"store_id": store_id})
        finally:
            db.session.remove()
    return totals


def init_app(app: Flask) -> None:
    """Nothing to bind yet; kept so the factory reads as a list of init_app calls."""
