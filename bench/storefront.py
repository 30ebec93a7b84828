"""Storefront requests per second and p99: balance read and review summary against a bare Flask endpoint.

    .venv/bin/python -m bench.storefront         # see bench/README.md for options

One WooCommerce store with 1,000,000 customers in a fresh PostgreSQL database (bench/storefront_seed.py), Redis
for the rate limits and the caches. Our app and bench/bare_app.py run under gunicorn with the project's
gunicorn.conf.py (same workers and threads, same environment; one worker by default, `--workers`). For each
endpoint: the maximum rate (closed loop, enough keep-alive connections to saturate), then p50/p99 at half of
that rate (open loop). The balance twice: every request a new shopper (each a database read), and
shoppers opening `--pages` pages each (the panel opened on each page, or a theme showing the points on
every page); the server's copies are dropped before each run and its database reads counted, so the hit ratio
printed is measured, not assumed. The rate limits are raised for the run through their configuration
(STOREFRONT_RATE_STORE / _CLIENT), or the load would be measuring 429s. Answers are checked (status and body);
the exit status is 1 only on wrong answers.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from . import cpu
from .backends import BIN, ROOT, Backends, Server, gunicorn_settings
from .sfreport import Run, Target, balance_reads, cleanup_redis, report, widget_sizes
from .storefront_seed import PRODUCT, expected_balance, expected_summary, seed

SITE = "https://bench-woo.example"
ORIGIN = SITE  # the store's own origin: CORS allows it
UNLIMITED = "1000000000/60"
BLOCK = 200  # shoppers browsing at once in the `--pages` workload


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def mint(site_key: str, customer_id: str, secret: str, expires_at: int) -> str:
    """The WooCommerce plugin's token, written from README "Storefront API" (not imported from the app)."""
    payload = _b64(json.dumps({"store": site_key, "cid": customer_id, "exp": expires_at}).encode())
    return payload + "." + _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def raw_get(path: str, port: int, headers: dict[str, str]) -> str:
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Origin: {ORIGIN}", "Accept: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return "\r\n".join(lines) + "\r\n\r\n"


def browse(shoppers: list[Any], pages: int) -> list[Any]:
    """Requests of BLOCK shoppers browsing at once, in turn (a shopper's next page comes BLOCK requests later);
    each shopper opens `pages` pages, then a new one takes the slot. The slots are staggered, so in every turn
    1/pages of them start a new shopper: first pages (misses of the copy) spread evenly, not in bursts (only
    the first turn is all new shoppers)."""
    out: list[Any] = []
    waiting = iter(shoppers)
    slots: list[Any] = [None] * BLOCK
    turn = 0
    while True:
        for j in range(BLOCK):
            if slots[j] is None or (turn + j) % pages == 0:
                slots[j] = next(waiting, None)
                if slots[j] is None:
                    return out
            out.append(slots[j])
        turn += 1


def flask_json(backends: Backends, *args: str) -> Any:
    done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=backends.env, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stderr.decode(errors='replace')[-3000:]}")
    return json.loads(done.stdout)


def load(target: Target, args: argparse.Namespace, seconds: float, rate: float = 0.0, connections: int = 0) -> Run:
    # Every run starts cold: its hit ratio is the workload's.
    reads = balance_reads(args.redis_url, drop=True) if target.cached else 0
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(target.requests, handle)
    argv = [sys.executable, "-m", "bench.sfload", "--port", str(target.server.port), "--requests-file", handle.name]
    argv += ["--connections", str(connections or args.connections), "--duration", str(seconds)]
    argv += ["--rate", str(rate), "--record", str(len(target.expected))]
    before, children = cpu.reading(target.server.process.pid), resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    finally:
        os.unlink(handle.name)
    used = cpu.spent(before, cpu.reading(target.server.process.pid))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used["load"] = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed on {target.label}:\n{done.stderr[-2000:]}\n{target.server.errors()}")
    data = json.loads(done.stdout)
    run = Run(data["elapsed"], data["latencies_ms"], Counter(data["outcomes"]), data["samples"], used)
    if target.cached and run.latencies:
        target.misses.append((balance_reads(args.redis_url, drop=False) - reads) / len(run.latencies))
    return run


def wrong_answers(target: Target, run: Run) -> list[str]:
    problems = [f"{n} x HTTP {code}" for code, n in run.outcomes.items() if code != "200"]
    for index, body in run.samples.items():
        answer = json.loads(body)
        wanted = target.expected[int(index)]
        got = {k: answer.get(k) for k in wanted} if isinstance(answer, dict) else answer
        if got != wanted:
            problems.append(f"request {index}: {got} != {wanted}")
    return problems


def build_targets(args: argparse.Namespace, backends: Backends, bare: Server, ours: Server) -> list[Target]:
    credentials = ("--consumer-key", "ck_bench", "--consumer-secret", "cs_bench", "--webhook-secret", "bench-hook")
    store = flask_json(backends, "stores", "add", "woocommerce", SITE, *credentials, "--currency", "EUR")
    keys = flask_json(backends, "stores", "storefront-secret", str(store["id"]))
    started = time.monotonic()
    seeded = seed(
        backends.url.set(drivername="postgresql").render_as_string(hide_password=False),
        store["id"],
        args.customers,
        args.sample,
    )
    print(
        f"seeded {seeded.customers:,} customers ({len(seeded.sample):,} with points) in "
        f"{time.monotonic() - started:.1f} s"
    )
    expires = int(time.time()) + 3000  # under the 1 h maximum lifetime; the run is much shorter
    shoppers = []
    for customer_id, platform_id in seeded.sample:
        token = mint(store["domain"], platform_id, keys["secret"], expires)
        shoppers.append((raw_get("/api/v1/me/balance", ours.port, {"Authorization": f"Bearer {token}"}), customer_id))
    # Every request a new shopper: each one a cache miss. Then shoppers browsing (see `browse`).
    browsing = browse(shoppers, args.pages)
    summary_path = f"/api/v1/products/{PRODUCT}/reviews/summary"
    bare_request = raw_get("/api/v1/bare", bare.port, {"X-PPE-Store": keys["public_key"]})
    return [
        Target("bare Flask (JSON 200)", bare, [bare_request], [{"spendable": 340, "pending": 120}]),
        Target(
            "balance, new shoppers",
            ours,
            [r for r, _ in shoppers],
            [expected_balance(c) for _, c in shoppers],
            cached=True,
        ),
        Target(
            f"balance, {args.pages} pages each",
            ours,
            [r for r, _ in browsing],
            [expected_balance(c) for _, c in browsing],
            cached=True,
        ),
        Target(
            "GET /reviews/summary",
            ours,
            [raw_get(summary_path, ours.port, {"X-PPE-Store": keys["public_key"]})],
            [expected_summary()],
        ),
    ]


def measure(args: argparse.Namespace, targets: list[Target]) -> list[str]:
    problems: list[str] = []
    for target in targets:
        problems += [f"{target.label} warm-up: {p}" for p in wrong_answers(target, load(target, args, args.warmup))]
    for _ in range(args.rounds):  # interleaved, so a neighbour's load hits every endpoint alike
        for target in targets:
            run = load(target, args, args.duration)
            problems += [f"{target.label}: {p}" for p in wrong_answers(target, run)]
            target.maxima.append(run)
    for target in targets:
        best = sum(r.rate for r in target.maxima) / len(target.maxima)
        target.half = load(target, args, args.duration, rate=best / 2, connections=args.open_connections)
        problems += [f"{target.label} (half load): {p}" for p in wrong_answers(target, target.half)]
    return problems


def run(args: argparse.Namespace, backends: Backends) -> bool:
    os.environ["WEB_CONCURRENCY"] = backends.env["WEB_CONCURRENCY"] = str(args.workers)
    settings = gunicorn_settings()
    print(f"gunicorn.conf.py: {settings}; both servers, loopback only")
    print(f"rate limits raised for the run: STOREFRONT_RATE_STORE = STOREFRONT_RATE_CLIENT = {UNLIMITED}")
    closed = f"{args.connections} keep-alive connections, {args.rounds} round(s) of {args.duration:g} s"
    print(f"load: closed loop, {closed};")
    print(f"      then open loop at half of each max rate over {args.open_connections} connections")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the run")
    backends.env.update(STOREFRONT_RATE_STORE=UNLIMITED, STOREFRONT_RATE_CLIENT=UNLIMITED)
    backends.check_redis()
    backends.create(stores=False)
    servers: list[Server] = []
    try:
        servers.append(Server("bare", "bench.bare_app:app", backends.env))
        servers.append(Server("ours", "wsgi:app", backends.env))
        targets = build_targets(args, backends, *servers)
        problems = measure(args, targets)
        report(targets)
    finally:
        for server in servers:
            server.stop()
    print(f"\nwidget: {widget_sizes()}")
    print(f"load average {os.getloadavg()[0]:.1f} after the run")
    for problem in problems[:20]:
        print(f"WRONG: {problem}")
    print("answers: " + ("all right" if not problems else f"{len(problems)} problem(s)"))
    return not problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--admin-url", default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000, help="customers with points, whose tokens the load uses")
    parser.add_argument("--connections", type=int, default=16, help="closed loop")
    parser.add_argument("--open-connections", type=int, default=32, help="open loop (half load)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pages", type=int, default=5, help="pages each browsing shopper opens (the second balance)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="gunicorn workers for both servers (2: the kernel spreads connections"
        " unevenly between them, and the bare rate swings 2-3x from round to round)",
    )
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    backends = Backends(args.admin_url, args.redis_url)
    ok = False
    try:
        ok = run(args, backends)
    except (OSError, RuntimeError, SQLAlchemyError, RedisError) as exc:
        print(f"bench failed: {exc}")
    finally:
        if args.keep_db:
            print(f"kept database {backends.name}")
        else:
            try:
                backends.drop()
                cleanup_redis(args.redis_url)
            except (SQLAlchemyError, RedisError) as exc:
                print(f"cleanup failed: {exc}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
