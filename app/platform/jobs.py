"""The Flask app a worker runs its jobs in, built once per process. Jobs take ids (never ORM objects), idempotent.

A job runs in a plain `rq worker` process, which has no Flask app: `job_app()`
builds one per process on first use, from the same environment as the web.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any, cast

from flask import Flask, current_app, has_app_context
from rq.worker import SimpleWorker

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


class Worker(SimpleWorker):
    """The `rq worker` class (app/cli/run.worker_argv): SimpleWorker (jobs run in the worker process itself, so
    the app and its connection pool are built once per process) that builds the app when it starts. The app's
    logging (platform/logs.py) then replaces the handlers RQ's command line put on its loggers before the worker's
    first line, so every line is written once and in our format."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        job_app()


def init_app(app: Flask) -> None:
    """Nothing to bind yet; kept so the factory reads as a list of init_app calls."""
