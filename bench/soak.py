"""Soak: many stores' webhooks at a steady rate through web, two workers and the scheduler; then the end state.

    .venv/bin/python -m bench.soak --stores 50 --customers 100 --rate 50 --minutes 2 [--failover] [--burst-store]

Real processes as deploy runs them (gunicorn with gunicorn.conf.py, two `flask worker`, one `flask scheduler`) on
a private PostgreSQL cluster and a private redis-server (bench/soak_services.py), a mixed signed webhook stream
sent over HTTP at a target rate from its own process (bench/soak_stream.py, bench/soak_send.py), and at the end:
the inbox drained, every acknowledged webhook processed, every record equal to the generator's expectation, no
doubles (bench/soak_check.py); per minute p99 acknowledgement latency and achieved rate, and every process's
memory over time (bench/soak_report.py). See bench/README.md ("bench/soak.py").
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .backends import ROOT, Backends, free_port
from .soak_run import Run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=1000, help="customers per store")
    parser.add_argument("--rate", type=float, default=300.0, help="webhooks per second")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the stream lasts at --rate")
    parser.add_argument("--burst-store", action="store_true", help="one store's flash sale in the middle")
    parser.add_argument("--burst-orders", type=int, default=50000, help="the flash sale's orders")
    parser.add_argument("--burst-seconds", type=float, default=60.0, help="the flash sale's length")
    parser.add_argument("--failover", action="store_true", help="restart PostgreSQL and Redis, kill -9 processes")
    parser.add_argument("--threads", type=int, default=32, help="sender connections")
    parser.add_argument("--drain-timeout", type=float, default=900.0, help="seconds to wait for the inbox")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the processes' logs and the stream (kept on failure)")
    parser.add_argument(
        "--memwatch", type=float, default=0, help="seconds between the app processes' memory lines (bench/memwatch)"
    )
    parser.add_argument("--malloc-arena-max", type=int, default=0, help="MALLOC_ARENA_MAX for the app processes")
    args = parser.parse_args()
    sys.exit(0 if run(args) else 1)


def run(args: argparse.Namespace) -> bool:
    from . import soak_services as services
    from .soak_stream import burst_spec, interleave, plan_stores, signed

    print(f"machine: {os.cpu_count()} cores, load average {'/'.join(f'{x:.1f}' for x in os.getloadavg())} before")
    logs = Path(tempfile.mkdtemp(prefix="ppe-soak-logs-"))
    run = Run(args, logs)
    ok = False
    try:
        run.pg, run.redis = services.PrivatePostgres(), services.PrivateRedis()
        backends = run.backends = Backends(run.pg.admin_url, run.redis.url)
        backends.create(stores=False)
        planned = time.monotonic()
        target = int(args.rate * args.minutes * 60)
        specs = plan_stores(args.stores, target, args.seed)
        burst = burst_spec(2 * args.stores, args.burst_orders * 6, args.seed) if args.burst_store else None
        rng = random.Random(args.seed)
        stream = interleave(rng, [signed(spec) for spec in specs])
        run.stream, run.specs, run.burst = stream, specs, burst
        run.burst_stream = signed(burst) if burst else []
        print(
            f"plan: {len(specs)} stores x {args.customers} customers; {len(stream)} webhooks"
            f" ({len(stream) / args.rate:.0f} s at {args.rate:g}/s); {time.monotonic() - planned:.0f} s to generate"
        )
        os.environ.update(backends.env)
        from app import create_app

        from .soak_check import create_stores

        run.app = create_app()
        made = time.monotonic()
        all_specs = specs + ([burst] if burst else [])
        run.ids = create_stores(run.app, all_specs, args.customers)
        print(f"stores created with their customers in {time.monotonic() - made:.0f} s")
        ok = drive(run, services)
        return ok
    finally:
        run.close()
        if args.keep or not ok:
            print(f"logs: {logs}")
        else:
            shutil.rmtree(logs, ignore_errors=True)


def drive(run: Run, services: object) -> bool:
    from . import soak_services

    args = run.args
    port = free_port()
    run.port = port
    run.procs = soak_services.app_processes(app_env(run), port, run.logs)
    run.wait_healthy()
    run.start_sampler()
    base = write_stream(run.logs / "stream.pickle", run.stream)
    senders = [sender(base, port, args.rate, args.threads, run.logs / "results.json")]
    run.send_start = time.time() + 0.5
    duration = len(run.stream) / args.rate
    if run.burst is not None:
        run.burst_start = run.send_start + duration / 3
        run.burst_end = run.burst_start + args.burst_seconds
        run.schedule(duration / 3, lambda: senders.append(burst_sender(run, port)))
    if args.failover:
        run.schedule_failover(duration)
    for proc in list(senders):
        proc.wait()
    while len(senders) > 1 and senders[-1].poll() is None:
        senders[-1].wait()
    run.send_end = time.time()
    run.stop_timers()
    return run.finish()


def app_env(run: Run) -> dict[str, str]:
    """The app processes' environment; with --memwatch, bench/memwatch/sitecustomize.py loaded in each of them
    (its lines in the logs folder, which is then kept)."""
    env = {**run.backends.env, "WEB_CONCURRENCY": "2"}
    if run.args.malloc_arena_max:
        env["MALLOC_ARENA_MAX"] = str(run.args.malloc_arena_max)
    if run.args.memwatch:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "bench" / "memwatch"), env.get("PYTHONPATH")]))
        env |= {"PPE_MEMWATCH_DIR": str(run.logs), "PPE_MEMWATCH_EVERY": f"{run.args.memwatch:g}"}
        run.args.keep = True
    return env


def write_stream(path: Path, stream: list) -> Path:
    with open(path, "wb") as handle:
        pickle.dump([(s.platform, s.headers, s.body) for s in stream], handle)
    return path


def sender(stream: Path, port: int, rate: float, threads: int, out: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "bench.soak_send", "--stream", str(stream), "--port", str(port)]
    argv += ["--rate", f"{rate}", "--threads", str(threads), "--out", str(out)]
    return subprocess.Popen(argv, cwd=ROOT)


def burst_sender(run: Run, port: int) -> subprocess.Popen[bytes]:
    path = write_stream(run.logs / "burst.pickle", run.burst_stream)
    rate = len(run.burst_stream) / run.args.burst_seconds
    print(f"burst: {len(run.burst_stream)} webhooks of one store at {rate:.0f}/s from now", flush=True)
    return sender(path, port, rate, run.args.threads, run.logs / "burst-results.json")


def load_results(path: Path) -> list:
    with open(path) as handle:
        return [row for row in json.load(handle) if row is not None]


if __name__ == "__main__":
    main()
