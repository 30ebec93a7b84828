"""Whether an object a caller keeps is freed by reference counting alone, the cyclic collector off.

A worker runs its collector rarely (app/platform/worker.py tunes it), so anything left in a reference cycle, such
as an error kept with its traceback by the function that holds it, stays allocated long after its caller returns
(bench/README.md, "bench/worker_jobs.py").
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable


def freed_without_collector(make: Callable[[], object]) -> bool:
    """Call `make` (which keeps its result in a local of its own, as a caller would) and say whether that result
    is gone once `make` has returned and nothing else refers to it, with the collector disabled throughout."""

    def holder() -> weakref.ref:
        return weakref.ref(make())

    gc.disable()
    try:
        return holder()() is None
    finally:
        gc.enable()
