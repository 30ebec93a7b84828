"""Jobs for the worker tests (tests/platform/test_worker_redis_outage.py): a real `rq worker` imports them by name."""

from __future__ import annotations

import time
from pathlib import Path


def mark(path: str, label: str, seconds: float) -> str:
    """Write `start <label>`, sleep, then `done <label>`: a job long enough for Redis to go away while it runs."""
    log = Path(path)
    with log.open("a") as out:
        out.write(f"start {label}\n")
    time.sleep(seconds)
    with log.open("a") as out:
        out.write(f"done {label}\n")
    return label
