"""The Flask app a worker runs its jobs in, built once per process. Jobs take ids (never ORM objects), idempotent.

A job runs in a plain `rq worker` process, which has no Flask app: `job_app()`
builds one per process on first use, from the same environment as the web.
"""

from __future__ import annotations

import gc
import time
from typing import TYPE_CHECKING, cast

from flask import Flask, current_app, has_app_context

if TYPE_CHECKING:
    from werkzeug.local import LocalProxy

_app: Flask | None = None


def job_app() -> Flask:
    global _app
    if has_app_context():
        # current_app is typed Flask, but is werkzeug's LocalProxy to it: the app object itself, not the proxy.
        return cast("LocalProxy[Flask]", current_app)._get_current_object()
    if _app is None:
        from app import create_app

        _app = create_app()
        _tune_gc()
    return _app


# A batch builds and drops tens of thousands of ORM objects and rows. With CPython's default gen-0 threshold (700
# net allocations) the collector runs hundreds of times per batch, each pass walking the app's long-lived objects
# too: 8-11% of the worker's CPU per delivery (bench/process.py). Freezing what exists once the app is
# built moves those objects out of every future collection; a higher gen-0 threshold makes the passes rarer. Only
# reference cycles wait longer to be freed (refcounting frees everything else at once), and a worker's memory is
# bounded by one batch. https://docs.python.org/3/library/gc.html#gc.freeze
GC_THRESHOLDS = (50_000, 20, 100)


def _tune_gc() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


#: With these thresholds the oldest generation is collected after 100 collections of the middle one (about 100
#: million net allocations), so almost never in a worker's life, and a batch's ORM objects, rows and statements
#: that were still in flight when a middle collection ran are promoted into it, become garbage at the batch's end
#: (cycles: refcounting does not free them) and stay, so the workers grew all run long (bench/README.md, "The
#: workers' growth: the garbage the collector never reached"). So the worker makes a full collection between two
#: jobs, when nothing of a batch is alive, at most once per FULL_COLLECTION_SECONDS: a few ms of CPU.
FULL_COLLECTION_SECONDS = 60.0
_last_full = time.monotonic()


def collect_between_jobs() -> None:
    """A full collection if the last one is FULL_COLLECTION_SECONDS old (platform/worker.Worker, after a job)."""
    global _last_full
    now = time.monotonic()
    if now - _last_full >= FULL_COLLECTION_SECONDS:
        gc.collect()
        _last_full = time.monotonic()


def init_app(app: Flask) -> None:
    """Nothing to bind yet; kept so the factory reads as a list of init_app calls."""
