"""The soak's memory watch: a thread in each app process that writes what grows (issue 25, bench/README.md).

`bench.soak --memwatch SECONDS` puts this folder first on the app processes' PYTHONPATH, so Python imports this
module at start-up (https://docs.python.org/3/library/site.html, sitecustomize) in gunicorn's master and every
worker it forks, in each `rq worker` and in the scheduler. Every PPE_MEMWATCH_EVERY seconds the thread appends to
PPE_MEMWATCH_DIR/memwatch-<process>-<pid>.log: the RSS, glibc's heap (mallinfo2: in use, free but kept, mmapped),
the collector's generations (objects in each, collections run), SQLAlchemy's compiled cache per engine, and the
object types whose counts grew most since the previous line. With PPE_MEMWATCH_TRACE=N, tracemalloc starts
PPE_MEMWATCH_TRACE_AFTER seconds in (after the warm-up) with N frames, and each line after that lists the
allocation sites that grew most since that first snapshot (what stays allocated, not what passed through).

Nothing here runs unless PPE_MEMWATCH_DIR is set; the app's own code is not touched.
"""

from __future__ import annotations

import collections
import ctypes
import gc
import os
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

DIRECTORY = os.environ.get("PPE_MEMWATCH_DIR")
EVERY = float(os.environ.get("PPE_MEMWATCH_EVERY", "60"))
TRACE = int(os.environ.get("PPE_MEMWATCH_TRACE", "0"))
TRACE_AFTER = float(os.environ.get("PPE_MEMWATCH_TRACE_AFTER", "180"))
TOP = int(os.environ.get("PPE_MEMWATCH_TOP", "12"))
#: Same-run A/B: the first rq worker to start runs without the full collections between jobs (platform/jobs).
AB = os.environ.get("PPE_MEMWATCH_AB") == "1"
#: Same-run A/B of glibc's malloc_trim(0) after each full collection between jobs: the first rq worker to start
#: does not trim, the others do (https://man7.org/linux/man-pages/man3/malloc_trim.3.html).
TRIM_AB = os.environ.get("PPE_MEMWATCH_TRIM_AB") == "1"


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks")
        + ("keepcost",)
    ]


def _rss_kb() -> tuple[int, int]:
    rss = hwm = 0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return rss, hwm


_LIBC: list[Any] = []  # loaded once: each ctypes.CDLL() is a few objects more that stay


def libc() -> Any:
    """glibc, loaded once, its mallinfo2 returning _MallInfo2 (OSError or AttributeError where it is missing)."""
    if not _LIBC:
        loaded = ctypes.CDLL("libc.so.6")
        loaded.mallinfo2.restype = _MallInfo2
        _LIBC.append(loaded)
    return _LIBC[0]


def _heap() -> str:
    try:
        info = libc().mallinfo2()
    except (OSError, AttributeError):
        return "heap ?"
    mb = 1 << 20
    return (
        f"heap used {info.uordblks / mb:.1f} free {info.fordblks / mb:.1f} mmapped {info.hblkhd / mb:.1f}"
        f" arena {info.arena / mb:.1f} MB"
    )


def _compiled_caches() -> str:
    """Entries in each SQLAlchemy engine's compiled cache (an LRU of 500 by default), for the app's engines."""
    db = getattr(sys.modules.get("app.extensions"), "db", None)
    engines: list[Any] = []
    for per_app in list(getattr(db, "_app_engines", {}).values()):
        engines += list(per_app.values())
    return " ".join(str(len(engine._compiled_cache or ())) for engine in engines) or "-"


def _trimmed(collect: Any) -> Any:
    """collect_between_jobs, then glibc's malloc_trim(0) when it made a full collection."""
    trim = libc().malloc_trim

    def wrapper() -> None:
        before = gc.get_stats()[2]["collections"]
        collect()
        if gc.get_stats()[2]["collections"] != before:
            trim(0)

    wrapper.trimmed = True  # type: ignore[attr-defined]
    return wrapper


class Watch:
    def __init__(self) -> None:
        name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
        if name == "flask" and len(sys.argv) > 3:
            name = sys.argv[3]  # flask --app wsgi scheduler
        self.path = Path(DIRECTORY or ".") / f"memwatch-{name}-{os.getpid()}.log"
        self.started = time.monotonic()
        self.types: collections.Counter[str] | None = None
        self.first: tracemalloc.Snapshot | None = None
        self.gc_seconds = [0.0, 0.0, 0.0]
        self.gc_started = 0.0
        gc.callbacks.append(self.timed)
        self.baseline = (AB or TRIM_AB) and name == "rq" and self.claim_baseline()

    def claim_baseline(self) -> bool:
        try:
            os.close(os.open(Path(DIRECTORY or ".") / "memwatch-ab-baseline", os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return False
        return True

    def timed(self, phase: str, info: dict[str, int]) -> None:
        """Seconds spent in the collector per generation (gc.callbacks)."""
        if phase == "start":
            self.gc_started = time.perf_counter()
        else:
            self.gc_seconds[info["generation"]] += time.perf_counter() - self.gc_started

    def line(self) -> str:
        rss, hwm = _rss_kb()
        generations = [len(gc.get_objects(generation)) for generation in range(3)]
        counts = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
        grown = ""
        if self.types is not None:
            diff = counts.copy()
            diff.subtract(self.types)
            grown = "  ".join(f"{k} {v:+d}" for k, v in diff.most_common(TOP) if v > 0)
        self.types = counts
        collections_run = "/".join(str(s["collections"]) for s in gc.get_stats())
        out = (
            f"+{time.monotonic() - self.started:6.0f} s  RSS {rss / 1024:6.1f} MB (peak {hwm / 1024:.1f})  {_heap()}"
            f"  gc objects {'/'.join(map(str, generations))} frozen {gc.get_freeze_count()}"
            f" collections {collections_run} ({'/'.join(f'{t:.2f}' for t in self.gc_seconds)} s)"
            f"  full between jobs {self.full_between_jobs()}  compiled cache {_compiled_caches()}"
            f"  load {os.getloadavg()[0]:.1f}\n    grown types: {grown}\n"
        )
        jobs = sys.modules.get("app.platform.jobs")
        between_jobs = getattr(getattr(jobs, "collect_between_jobs", None), "watched", False)
        return out + ("" if between_jobs else self.traced())

    def full_between_jobs(self) -> str:
        jobs = sys.modules.get("app.platform.jobs")
        if jobs is None or not hasattr(jobs, "FULL_COLLECTION_SECONDS"):
            return "-"
        if self.baseline and AB:
            jobs.FULL_COLLECTION_SECONDS = float("inf")  # type: ignore[attr-defined]
        elif TRIM_AB and not self.baseline and not getattr(jobs.collect_between_jobs, "trimmed", False):
            jobs.collect_between_jobs = _trimmed(jobs.collect_between_jobs)  # type: ignore[attr-defined]
        elif TRACE and not getattr(jobs.collect_between_jobs, "watched", False):
            jobs.collect_between_jobs = self.watched(jobs.collect_between_jobs)  # type: ignore[attr-defined]
        trim = " + malloc_trim" if getattr(jobs.collect_between_jobs, "trimmed", False) else ""
        return "off" if jobs.FULL_COLLECTION_SECONDS == float("inf") else f"{jobs.FULL_COLLECTION_SECONDS:g} s{trim}"

    def watched(self, collect: Any) -> Any:
        """collect_between_jobs, then (once it made a full collection) the traced growth of what is still
        allocated between two jobs since the first such moment after the warm-up: no batch in flight, no
        garbage left, so what grows here is kept."""

        def wrapper() -> None:
            before = gc.get_stats()[2]["collections"]
            collect()
            if gc.get_stats()[2]["collections"] == before or time.monotonic() - self.started < TRACE_AFTER:
                return
            text = self.traced() or "    tracemalloc started between jobs\n"
            with open(self.path, "a") as log:
                log.write(f"+{time.monotonic() - self.started:6.0f} s  after a full collection between jobs\n{text}")

        wrapper.watched = True  # type: ignore[attr-defined]
        return wrapper

    def traced(self) -> str:
        if not TRACE or time.monotonic() - self.started < TRACE_AFTER:
            return ""
        if self.first is None:
            tracemalloc.start(TRACE)
            self.first = tracemalloc.take_snapshot()
            return "    tracemalloc started\n"
        keep = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__)]
        now = tracemalloc.take_snapshot().filter_traces(keep)
        stats = now.compare_to(self.first.filter_traces(keep), "traceback" if TRACE > 1 else "lineno")
        total = sum(stat.size_diff for stat in stats)
        lines = [f"    traced growth since the first snapshot: {total / 1e6:+.2f} MB"]
        for stat in stats[:TOP]:
            lines.append(f"    {stat.size_diff / 1e6:+.3f} MB {stat.count_diff:+d} blocks")
            lines += [f"        {frame}" for frame in stat.traceback.format()[-2 * TRACE :]]
        return "\n".join(lines) + "\n"

    def loop(self) -> None:
        while True:
            time.sleep(EVERY)
            try:
                text = self.line()
            except Exception as exc:  # noqa: BLE001  (a diagnostic: say what failed and keep going)
                text = f"memwatch failed: {type(exc).__name__}: {exc}\n"
            with open(self.path, "a") as log:
                log.write(text)


def start() -> None:
    watch = Watch()
    threading.Thread(target=watch.loop, name="memwatch", daemon=True).start()


if DIRECTORY and sys.argv and Path(sys.argv[0]).name in ("gunicorn", "rq", "flask"):
    start()
    os.register_at_fork(after_in_child=start)  # gunicorn's workers: threads do not survive a fork
