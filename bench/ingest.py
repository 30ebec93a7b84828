"""Webhook acknowledgements per second: our endpoint against a bare Flask endpoint.

    .venv/bin/python -m bench.ingest            # see bench/README.md for options

Both are served by gunicorn with the project's gunicorn.conf.py (same workers
and threads), on loopback, one after the other, driven by the same load
generator in its own process (bench/loadgen.py). Ours runs against a fresh
PostgreSQL database and the given Redis, with no rq worker: what is measured
is the acknowledgement (verify, commit, kick). After the run, the rows in
webhook_inbox must equal the "accepted" answers: every acknowledgement stored.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from .backends import ROOT, SECRET, SHOP, Backends, Server, gunicorn_settings

BODY = ROOT / "tests" / "fixtures" / "shopify" / "orders_create.json"


@dataclass
class Result:
    label: str
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)

    def add(self, other: Result) -> None:
        self.elapsed += other.elapsed
        self.latencies += other.latencies
        self.outcomes.update(other.outcomes)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    @property
    def accepted(self) -> int:
        return self.outcomes["200 accepted"]


def load(server: Server, args: argparse.Namespace, prefix: str, seconds: float, duplicate: bool = False) -> Result:
    argv = [sys.executable, "-m", "bench.loadgen", "--port", str(server.port), "--body", str(BODY)]
    argv += ["--secret", SECRET, "--shop", SHOP, "--prefix", prefix, "--connections", str(args.connections)]
    argv += ["--requests", str(args.requests), "--duration", str(seconds)]
    if duplicate:
        argv.append("--duplicate")
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed on {server.label}:\n{done.stderr[-2000:]}\n{server.errors()}")
    data = json.loads(done.stdout)
    return Result(server.label, data["elapsed"], data["latencies_ms"], Counter(data["outcomes"]))


def row(result: Result) -> str:
    outcomes = ", ".join(f"{n} x {what}" for what, n in sorted(result.outcomes.items()))
    return (
        f"{result.label:<24}{result.rate:>9.0f}{result.percentile(0.5):>9.1f}{result.percentile(0.99):>9.1f}"
        f"{len(result.latencies):>9}   {outcomes}"
    )


def run(args: argparse.Namespace, backends: Backends) -> bool:
    settings = gunicorn_settings()
    print(f"gunicorn.conf.py: {settings}; both servers, loopback only")
    print(f"load: {args.connections} keep-alive connections, {BODY.stat().st_size} B signed orders/create body,")
    print(f"      up to {args.requests} requests or {args.duration:g} s per run, {args.rounds} round(s)")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the run")
    backends.check_redis()
    backends.create()
    servers: list[Server] = []
    try:
        servers.append(Server("bare Flask (200)", "bench.bare_app:app", backends.env))
        servers.append(Server("ours: new deliveries", "wsgi:app", backends.env))
        return measure(args, backends, *servers)
    finally:
        for server in servers:
            server.stop()


def measure(args: argparse.Namespace, backends: Backends, bare: Server, ours: Server) -> bool:
    tag = backends.tag
    load(bare, args, f"warm-{tag}", args.warmup)
    accepted = load(ours, args, f"warm-{tag}", args.warmup).accepted
    totals = {"bare": Result("bare, all rounds"), "ours": Result("ours, all rounds")}
    ratios: list[float] = []
    stored_ok = True
    print(f"\n{'':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'answers':>9}   outcomes")
    for n in range(args.rounds):
        # Interleaved, so a neighbour's load on the machine hits both sides alike.
        before = backends.inbox_rows()
        pair = {
            key: load(server, args, f"run{n}-{tag}", args.duration) for key, server in (("bare", bare), ("ours", ours))
        }
        for key, result in pair.items():
            totals[key].add(result)
            print(row(result))
        ours_run = pair["ours"]
        stored = backends.inbox_rows() - before
        stored_ok &= stored == ours_run.accepted
        ratios.append(ours_run.rate / pair["bare"].rate)
        accepted += ours_run.accepted
        print(f"{'':<24}round {n + 1}: ratio {ratios[-1]:.2f}; {ours_run.accepted} accepted, {stored} rows stored")
    if not args.no_duplicates:
        before = backends.inbox_rows()
        dup = load(ours, args, f"dup-{tag}", args.duration, duplicate=True)
        dup.label = "ours: duplicates"
        print(row(dup))
        stored_ok &= backends.inbox_rows() - before == dup.accepted
        accepted += dup.accepted
    if args.rounds > 1:
        print(row(totals["bare"]))
        print(row(totals["ours"]))
    rows = backends.inbox_rows()
    ratio = totals["ours"].rate / totals["bare"].rate
    print(
        f"\nratio ours/bare (new deliveries, req/s): {ratio:.2f}  (per round: {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    verdict = "OK" if rows == accepted and stored_ok else "MISMATCH"
    print(f"durability check: {accepted} '200 accepted' answers, {rows} rows in webhook_inbox: {verdict}")
    # No worker runs, so the first kick's job stays queued and KICK_KEY stays set:
    # later kicks find it and enqueue nothing (one more per KICK_TTL_SECONDS).
    print(f"kick: {backends.queued_jobs()} drain job(s) queued; load average {os.getloadavg()[0]:.1f} after the run")
    return verdict == "OK"


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark webhook acknowledgements against a bare Flask endpoint.")
    parser.add_argument(
        "--admin-url", default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=20000, help="per measured run")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds, per measured run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds per server before measuring")
    parser.add_argument("--rounds", type=int, default=3, help="bare/ours pairs, interleaved")
    parser.add_argument("--no-duplicates", action="store_true", help="skip the duplicate-delivery run")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the bench database")
    args = parser.parse_args()
    backends = Backends(args.admin_url, args.redis_url)
    ok = False
    try:
        ok = run(args, backends)
    except (OSError, RuntimeError, SQLAlchemyError, RedisError) as exc:
        print(f"bench failed: {exc}\n(it needs PostgreSQL at --admin-url and a spare Redis database at --redis-url)")
    finally:
        if args.keep_db:
            print(f"kept database {backends.name}")
        else:
            try:
                backends.drop()
            except (SQLAlchemyError, RedisError) as exc:
                print(f"cleanup failed: {exc}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
