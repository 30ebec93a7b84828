"""A worker's memory over RQ's own loop: RSS per N jobs run by our rq Worker in this process (issue 25).

    .venv/bin/python -m bench.worker_rq --kind noop --jobs 20000 --redis-url redis://127.0.0.1:6379/7
    .venv/bin/python -m bench.worker_rq --kind inbox --jobs 20000 --redis-url redis://127.0.0.1:6379/7

bench/worker_memory.py and bench/worker_jobs.py call the jobs themselves; the soak's workers are `rq worker`
processes of app/platform/worker.Worker (RQ's SimpleWorker: every job runs in the worker process, no work horse is
forked), so RQ's per-job bookkeeping, its logging and the job's app context are theirs too. Here `--jobs` jobs of
one kind are enqueued `--every` at a time and run by that Worker (burst) in this process, with the worker's GC
tuning, and the RSS, the live objects the collector tracks and glibc's heap (mallinfo2) are printed after each
chunk:
- `noop`: a function that returns at once (RQ's loop alone: fetch, perform, record the result, log);
- `inbox`: inbox/tasks.process_inbox on an empty inbox (the soak's most frequent job: app context, claim, kick
  key, log line), with its kick turned off so one job does not queue the next.
"""

from __future__ import annotations

import argparse
import collections
import gc
import logging
import os
import signal
import sys
import time
from typing import Any

from .backends import Backends
from .memwatch.sitecustomize import libc
from .worker_memory import rss_mb


def noop() -> str:
    return "ok"


def heap_kb() -> tuple[int, int]:
    """glibc's main heap: bytes in use and free-but-kept (KB); (0, 0) where mallinfo2 is missing."""
    try:
        info = libc().mallinfo2()
    except (OSError, AttributeError):
        return 0, 0
    return info.uordblks >> 10, info.fordblks >> 10


def run(args: argparse.Namespace) -> None:
    from redis import Redis
    from rq import Queue

    import app.platform.jobs as jobs
    from app.platform.jobs import job_app
    from app.platform.worker import Worker

    app = job_app()  # the worker builds it on start (platform/worker.Worker.__init__), GC tuned
    if args.full_every is not None:
        jobs.FULL_COLLECTION_SECONDS = args.full_every if args.full_every > 0 else float("inf")
    if args.kind == "inbox":
        import app.inbox.tasks as tasks

        tasks.kick_processing = lambda **_: None  # one job per enqueue (the soak's web kicks them)
        func: Any = "app.inbox.tasks.process_inbox"
    else:
        func = "bench.worker_rq.noop"
    connection = Redis.from_url(args.redis_url)
    queue = Queue(app.config["RQ_QUEUE"], connection=connection)
    queue.empty()
    handler = logging.FileHandler(os.devnull)  # the soak's workers log every job to a file
    logging.getLogger("rq.worker").addHandler(handler)
    before: collections.Counter[str] | None = None
    worker: Worker | None = None
    done, wall = 0, time.perf_counter()
    print(f"before the first job: RSS {rss_mb():.1f} MB", flush=True)
    while done < args.jobs:
        with connection.pipeline() as pipe:
            for _ in range(args.every):
                queue.enqueue(func, pipeline=pipe, result_ttl=args.result_ttl)
            pipe.execute()
        if worker is None or args.new_worker:
            worker = Worker([queue], connection=connection)
        worker.work(burst=True, logging_level="INFO", with_scheduler=False)
        if worker._stop_requested:  # RQ's own SIGTERM handler (a warm stop) replaced ours during work()
            break
        done += args.every
        counts = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
        grown = ""
        if before is not None:
            diff = counts.copy()
            diff.subtract(before)
            grown = "  ".join(f"{k} {v:+d}" for k, v in diff.most_common(6) if v > 0)
        before = counts
        used, free = heap_kb()
        generations = "/".join(str(len(gc.get_objects(g))) for g in range(3))
        print(
            f"{done:6d} jobs  gc generations {generations}  RSS {rss_mb():7.1f} MB"
            f"  heap used {used / 1024:6.1f} free {free / 1024:5.1f} MB"
            f"  tracked objects {sum(counts.values()):7d}  {time.perf_counter() - wall:6.1f} s"
            f"  (load {os.getloadavg()[0]:.1f})  grew: {grown}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--admin-url", default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"))
    parser.add_argument("--kind", choices=("noop", "inbox"), default="noop")
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--every", type=int, default=2000, help="jobs per chunk (RSS printed after each)")
    parser.add_argument("--result-ttl", type=int, default=500, help="RQ's default: results kept 500 s")
    parser.add_argument(
        "--full-every", type=float, help="seconds between full collections between jobs (platform/jobs; 0: none)"
    )
    parser.add_argument("--new-worker", action="store_true", help="a new Worker object per chunk")
    args = parser.parse_args()
    backends = Backends(args.admin_url, args.redis_url)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the database is dropped on a kill too
    try:
        backends.create(stores=False)
        os.environ.update(backends.env)
        run(args)
    finally:
        backends.drop()


if __name__ == "__main__":
    main()
