"""The Flask app a worker runs its jobs in, built once per process. Jobs take ids (never ORM objects), idempotent.

A job runs in a plain `rq worker` process, which has no Flask app: `job_app()`
builds one per process on first use, from the same environment as the web.
"""

from __future__ import annotations

import ctypes
import ctypes.util
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
        fix_mmap_threshold()
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


# glibc serves a request of at least M_MMAP_THRESHOLD bytes (128 KiB at start) with its own mmap, returned to the
# system by free(). But by default the threshold is dynamic: each time such a block is freed, glibc raises the
# threshold to its size (up to 32 MiB), so from then on blocks of that size come from the heap instead
# (https://man7.org/linux/man-pages/man3/mallopt.3.html, M_MMAP_THRESHOLD). In a worker the largest blocks are a
# batch's (result sets, bodies, lists of a claim's rows): after a few batches they land in the heap between
# longer-lived small blocks, and the heap keeps each new high-water mark. Setting the threshold fixes it at its
# start value and turns the dynamic raising off, so those blocks are mmapped and given back when the batch ends.
# In an hour of issue 25's soak, same-run A/B (bench/README.md, "Soak run M"): the worker with it stayed within
# 175-182 MB from minute 4 to 61, the other rose in steps of 8-9 MB to 194; their CPU differed by 0.4%.
#
# Only where the C library is glibc (mallopt is glibc's); elsewhere nothing happens.
M_MMAP_THRESHOLD = -3  # glibc's malloc.h
MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's DEFAULT_MMAP_THRESHOLD_MIN, the threshold a process starts with


def fix_mmap_threshold(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Fix glibc's mmap threshold at `threshold` bytes for this process; False where there is no glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return False
    if not hasattr(libc, "gnu_get_libc_version"):  # only glibc has it; musl's mallopt does nothing
        return False
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(libc.mallopt(M_MMAP_THRESHOLD, threshold))
