"""A worker's memory over many stores: RSS and the Python heap's growth as the inbox is drained (issue 25).

    .venv/bin/python -m bench.worker_memory --orders 3200 --stores 500 --claim 100
    .venv/bin/python -m bench.worker_memory --orders 3200 --stores 500 --claim 100 --trace 12   # + tracemalloc

The soak's workers grew about 90 MB in 17 minutes over 1,000 stores while web and scheduler stayed flat
(bench/README.md, "Results at 1,000 stores"). Here one process runs the worker's loop (inbox/tasks.process_inbox:
claims of `--claim` deliveries, `process_batch`, the session removed at the end of each job of `--job-claims`
claims) over the scenario histories of bench/process_data.load_inbox on `--stores` store pairs, with the worker's
GC tuning (platform/jobs._tune_gc), and prints the process's RSS after every 1,000 deliveries. With `--trace N`
tracemalloc records N frames per allocation from the first checkpoint on, and the largest growths between the
first and the last checkpoint are printed by traceback (what stays allocated, not what passed through).
"""

from __future__ import annotations

import argparse
import collections
import gc
import os
import signal
import sys
import time
import tracemalloc
from typing import Any

from .backends import Backends


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def drain(app: Any, args: argparse.Namespace, total: int) -> None:
    from app.extensions import db
    from app.inbox.batch import process_batch
    from app.inbox.processing import claim_batch
    from app.inbox.tasks import process_inbox
    from app.platform.jobs import _tune_gc

    _tune_gc()
    app.config["INBOX_BATCH_SIZE"] = args.claim
    done, mark, first, pushes = 0, 0, None, 0
    types: collections.Counter[str] | None = None
    wall = time.perf_counter()
    with app.app_context():
        while True:
            if args.tasks:  # the job itself: one claim (its deadline passed), the lease thread, the kick
                claimed = process_inbox(max_seconds=0)
                done += sum(claimed.values())
                if args.pushes:
                    pushes += push_due(args.pushes)
            else:
                for _ in range(args.job_claims):  # one process_inbox job
                    claimed = claim_batch(db.session, args.claim)
                    if not claimed:
                        break
                    process_batch(db.session, claimed, 5)
                    done += len(claimed)
                else:
                    claimed = True
                db.session.remove()
            if done >= mark + 1000 or not claimed:
                mark = done - done % 1000
                print(
                    f"{done:6d} deliveries  {pushes:5d} pushes  RSS {rss_mb():7.1f} MB"
                    f"  {time.perf_counter() - wall:6.1f} s"
                    f"  compiled cache {len(db.engine._compiled_cache or ())}"
                    f"  (load average {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
                if args.types:
                    types = print_types(types)
                if args.trace and first is None and done >= args.trace_from:
                    tracemalloc.start(args.trace)
                    first = tracemalloc.take_snapshot()
            if not claimed or done >= args.limit:
                break
    if first is not None:
        gc.collect()
        last = tracemalloc.take_snapshot()
        keep = [tracemalloc.Filter(False, tracemalloc.__file__)]
        stats = last.filter_traces(keep).compare_to(first.filter_traces(keep), "traceback")
        grown = sum(stat.size_diff for stat in stats)
        print(f"\ntraced heap growth from {args.trace_from} deliveries to the end: {grown / 1e6:.1f} MB")
        for stat in stats[: args.top]:
            print(f"\n{stat.size_diff / 1e6:+.2f} MB, {stat.count_diff:+d} blocks")
            for frame in stat.traceback.format()[-2 * args.trace :]:
                print("   ", frame)


def print_types(before: collections.Counter[str] | None) -> collections.Counter[str]:
    """The objects the collector tracks (those made since the GC froze the app), by type: the most grown."""
    gc.collect()
    counts = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
    if before is not None:
        diff = counts.copy()
        diff.subtract(before)
        grown = "  ".join(f"{name} {n:+d}" for name, n in diff.most_common(8) if n > 0)
        print(f"        tracked objects {sum(counts.values())}, grown: {grown}", flush=True)
    return counts


def push_due(most: int) -> int:
    """As the soak's scheduler and workers: a loyalty write-back push (loyalty/writeback_tasks.push_balances, run
    as the rq worker calls it) for up to `most` stores with dirty balances due. The
    stores' https://{shop} and https://{site} do not resolve here, as in the soak: each push fails."""
    from app.extensions import db
    from app.loyalty.writeback import stores_due
    from app.loyalty.writeback_tasks import push_balances
    from app.platform.types import utcnow

    stores = stores_due(db.session, utcnow())[:most]
    db.session.remove()
    for store_id in stores:
        push_balances(store_id)
    return len(stores)


def main() -> None:
    parser = argparse.ArgumentParser(description="A worker's memory over many stores.")
    parser.add_argument(
        "--admin-url", default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4"))
    parser.add_argument("--orders", type=int, default=3200)
    parser.add_argument("--stores", type=int, default=500, help="store pairs (Shopify + WooCommerce)")
    parser.add_argument("--claim", type=int, default=100, help="deliveries per claim")
    parser.add_argument("--job-claims", type=int, default=5, help="claims per job (the session removed after)")
    parser.add_argument("--tasks", action="store_true", help="run inbox/tasks.process_inbox once per claim")
    parser.add_argument("--pushes", type=int, default=0, help="with --tasks: write-back pushes after each job")
    parser.add_argument("--trace", type=int, default=0, help="tracemalloc frames per allocation (0: off)")
    parser.add_argument("--trace-from", type=int, default=1000, help="deliveries before the first snapshot")
    parser.add_argument("--limit", type=int, default=10**9, help="stop after this many deliveries")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--types", action="store_true", help="live objects by type at each checkpoint (gc)")
    args = parser.parse_args()
    from .process_data import load_inbox

    backends = Backends(args.admin_url, args.redis_url)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the database is dropped on a kill too
    try:
        backends.create(stores=False)
        app, _, count = load_inbox(backends, argparse.Namespace(orders=args.orders, stores=args.stores))
        print(f"{count} deliveries over {args.stores * 2} stores; RSS after loading {rss_mb():.1f} MB", flush=True)
        drain(app, args, count)
    finally:
        backends.drop()
    sys.exit(0)


if __name__ == "__main__":
    main()
