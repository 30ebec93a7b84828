"""Inbox processing throughput: one rq worker applying order deliveries, against no-op jobs.

    .venv/bin/python -m bench.process            # see bench/README.md for options

A fresh PostgreSQL database gets several Shopify and WooCommerce stores and
their generated histories (app/demo/scenario.py: orders created, paid,
refunded, fulfilled, delivered, cancelled; repeat customers; guests who sign
up), written straight into webhook_inbox as the webhook route would store
them. Then ONE real `rq worker --burst` process (SimpleWorker) drains it. The
rate is deliveries over the wall clock from the first job's start to the last
delivery's processed_at (read from the database). In the same run the same
worker class runs one no-op job per delivery: the baseline. At the end every
delivery must be done and every customer must match both the scenario's own
model and a recomputation from the orders table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime

from redis import Redis
from rq import Queue
from rq.job import Job
from sqlalchemy import text

from app.config import DEFAULT_INBOX_BATCH_SIZE as BATCH_DEFAULT

from .backends import BIN, ROOT, Backends
from .counting import COUNTS_ENV

WORKER_CLASS = "bench.counting.CountingWorker"  # rq.worker.SimpleWorker that counts SQL statements and commits


def run_worker(backends: Backends, args: argparse.Namespace, label: str) -> dict:
    counts_file = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    env = {**backends.env, COUNTS_ENV: counts_file, "INBOX_BATCH_SIZE": str(args.batch)}
    argv = [str(BIN / "rq"), "worker", "--burst", "--url", backends.redis_url, "--worker-class", WORKER_CLASS]
    argv += ["--path", str(ROOT), "--logging_level", "WARNING", backends.queue]
    if args.profile and label == "process":
        if args.profile.endswith(".folded"):  # py-spy's collapsed stacks (needs `pip install py-spy`)
            argv = [str(BIN / "py-spy"), "record", "-r", "250", "-f", "raw", "-o", args.profile, "--", *argv]
        else:
            argv = [sys.executable, "-m", "cProfile", "-o", args.profile, *argv]
    started, cpu_before = time.monotonic(), _children_cpu()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed, cpu = time.monotonic() - started, _children_cpu() - cpu_before
    if done.returncode != 0:
        raise RuntimeError(f"rq worker failed ({label}):\n{done.stderr[-3000:]}")
    with open(counts_file) as handle:
        counts = json.load(handle)
    os.unlink(counts_file)
    return {**counts, "process_seconds": elapsed, "cpu_seconds": cpu}


def _children_cpu() -> float:
    """User + system CPU of this process's finished children: the worker's own CPU, which the neighbours'
    load changes far less than the wall clock (it leaves out PostgreSQL's and Redis's work)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def job_span(redis: Redis, ids: list[str]) -> float:
    """First job start to last job end, from RQ's own timestamps."""
    jobs = [job for job in Job.fetch_many(ids, connection=redis) if job is not None]
    failed = [job.id for job in jobs if job.get_status() != "finished"]
    if failed or len(jobs) != len(ids):
        raise RuntimeError(f"{len(failed)} job(s) did not finish, {len(ids) - len(jobs)} missing")
    return (max(j.ended_at for j in jobs) - min(j.started_at for j in jobs)).total_seconds()


def baseline(backends: Backends, args: argparse.Namespace, count: int) -> tuple[float, dict]:
    redis = Redis.from_url(backends.redis_url)
    try:
        queue = Queue(backends.queue, connection=redis)
        ids: list[str] = []
        for start in range(0, count, 1000):
            batch = [Queue.prepare_data("bench.counting.noop", result_ttl=600) for _ in range(min(1000, count - start))]
            ids += [job.id for job in queue.enqueue_many(batch)]
        counts = run_worker(backends, args, "noop")
        return count / job_span(redis, ids), counts
    finally:
        redis.close()


def process(backends: Backends, args: argparse.Namespace, count: int) -> tuple[float, dict]:
    from .lockprobe import LockProbe

    redis = Redis.from_url(backends.redis_url)
    probe = LockProbe(backends.engine)
    try:
        # The kick the webhook route would have sent: one drain job (it hands over to a new one every 30 s).
        job = Queue(backends.queue, connection=redis).enqueue("app.inbox.tasks.process_inbox", result_ttl=600)
        probe.start()
        try:
            counts = run_worker(backends, args, "process")
        finally:
            lock_wait = probe.stop()
        counts = {**counts, "lock_wait": lock_wait}
        job.refresh()
        first_start = job.started_at.replace(tzinfo=UTC)
    finally:
        redis.close()
    with backends.engine.connect() as conn:
        last: datetime = conn.execute(text("SELECT max(processed_at) FROM webhook_inbox")).scalar_one()
    span = (last.replace(tzinfo=UTC) - first_start).total_seconds()
    return count / span, counts


def per_delivery(counts: dict, count: int) -> str:
    return (
        f"{counts['statements'] / count:.1f} statements, {counts['commits'] / count:.2f} commits, "
        f"{counts['cpu_seconds'] / count * 1000:.2f} ms of worker CPU per delivery"
    )


def run(args: argparse.Namespace, backends: Backends) -> bool:
    from .process_data import load_inbox, verify

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the run")
    backends.check_redis()
    backends.create(stores=False)
    app, scenarios, count = load_inbox(backends, args)
    print(f"inbox: {count} deliveries (duplicates removed at the door) across {len(scenarios)} stores")
    print(f"worker: one `rq worker --burst` ({WORKER_CLASS}), INBOX_BATCH_SIZE={args.batch}")

    noop_rate, noop_counts = baseline(backends, args, count)
    print(f"\nno-op jobs (one per delivery): {noop_rate:>8.0f} /s   ({noop_counts['process_seconds']:.1f} s process)")
    print(f"  {noop_counts['cpu_seconds'] / count * 1000:.2f} ms of worker CPU per job")
    rate, counts = process(backends, args, count)
    print(f"deliveries processed:          {rate:>8.0f} /s   ({counts['process_seconds']:.1f} s process)")
    print(f"  {per_delivery(counts, count)}; {counts['jobs']} drain job(s)")
    print(f"ratio processed / no-op: {rate / noop_rate:.2f}")
    print(f"a redemption's wait for its store's lock meanwhile (bench/lockprobe.py): {counts['lock_wait']}")
    if args.profile:
        print(f"profile written to {args.profile} (python -m pstats {args.profile})")

    problems = verify(app, backends, scenarios, count)
    for line in problems[:20]:
        print(f"  MISMATCH {line}")
    print(f"correctness check: {'OK' if not problems else f'{len(problems)} problem(s)'}")
    print(f"load average {os.getloadavg()[0]:.1f} after the run")
    return not problems


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark inbox processing against no-op RQ jobs.")
    parser.add_argument(
        "--admin-url", default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4"))
    parser.add_argument("--orders", type=int, default=3000, help="orders in all (about 6 deliveries each)")
    parser.add_argument("--stores", type=int, default=3, help="Shopify + WooCommerce store pairs")
    parser.add_argument("--batch", type=int, default=int(os.environ.get("INBOX_BATCH_SIZE", BATCH_DEFAULT)))
    parser.add_argument(
        "--profile", default=None, help="profile the processing worker to this file: cProfile, or py-spy for *.folded"
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the bench database")
    args = parser.parse_args()
    backends = Backends(args.admin_url, args.redis_url)
    ok = False
    try:
        ok = run(args, backends)
    finally:
        if args.keep_db:
            print(f"kept database {backends.name}")
        else:
            backends.drop()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
