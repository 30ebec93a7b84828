"""Where one storefront request's CPU goes: cProfile over a few thousand in-process WSGI calls.

    .venv/bin/python -m bench.sfprofile [--calls 3000] [--top 25]

A fresh PostgreSQL database with the storefront bench's store (bench/storefront_seed.py, 20,000 customers),
Redis for the limits and the review cache, then in this process: the app from wsgi.py, the store cache warm
(STORE_CACHE_SECONDS as configured, 10 s), each endpoint called straight through `app(environ, start_response)`
(no HTTP, no test client) -- first timed without the profiler (microseconds per call), then under cProfile. The
balance twice: every call a customer not seen before (a miss of its Redis copy), then 500 customers in turn (hits).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from .backends import Backends
from .storefront import ORIGIN, SITE, UNLIMITED, cleanup_redis, flask_json, mint
from .storefront_seed import PRODUCT, seed


def environ(path: str, headers: dict[str, str]) -> dict[str, Any]:
    from werkzeug.test import EnvironBuilder

    built = EnvironBuilder(path=path, headers={"Origin": ORIGIN, **headers}).get_environ()
    built["REMOTE_ADDR"] = "127.0.0.1"
    return built


def call(app: Any, template: dict[str, Any]) -> tuple[str, bytes]:
    env = dict(template)
    env["wsgi.input"] = io.BytesIO(b"")
    seen: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen.append(status)

    result = app(env, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return seen[0], body


def profile(app: Any, label: str, templates: list[dict[str, Any]], calls: int, top: int, fresh: bool = False) -> None:
    """`fresh`: every timed and profiled call a request not seen before (templates[0:calls], then
    templates[calls:2 * calls]; the warm-up takes the last 200): for the balance, each a miss of its copy."""
    status, body = call(app, templates[-1])
    print(f"\n== {label}: {status} {body[:120]!r}")
    for n in range(200):  # warm: store cache, pool, statement caches
        call(app, templates[-1 - n % len(templates)])
    offset = calls if fresh else 0
    started, cpu = time.perf_counter(), time.process_time()
    for n in range(calls):
        call(app, templates[n % len(templates)])
    per_call = (time.perf_counter() - started) / calls * 1e6
    # CPU of this process only: under gunicorn the GIL is what a worker's threads share, and the round trips'
    # waits overlap with other requests; Redis' and PostgreSQL's own CPU are not in it.
    cpu_per_call = (time.process_time() - cpu) / calls * 1e6
    print(f"{per_call:.0f} us per call without the profiler, {cpu_per_call:.0f} us CPU in this process ({calls} calls)")
    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(calls):
        call(app, templates[(offset + n) % len(templates)])
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--admin-url", default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--only", choices=["balance", "summary", "bare"])
    args = parser.parse_args()
    backends = Backends(args.admin_url, args.redis_url)
    try:
        backends.env.update(STOREFRONT_RATE_STORE=UNLIMITED, STOREFRONT_RATE_CLIENT=UNLIMITED)
        backends.check_redis()
        backends.create(stores=False)
        credentials = ("--consumer-key", "ck_bench", "--consumer-secret", "cs_bench", "--webhook-secret", "bench-hook")
        store = flask_json(backends, "stores", "add", "woocommerce", SITE, *credentials, "--currency", "EUR")
        keys = flask_json(backends, "stores", "storefront-secret", str(store["id"]))
        dsn = backends.url.set(drivername="postgresql").render_as_string(hide_password=False)
        seeded = seed(dsn, store["id"], 20_000, 2 * args.calls + 200)
        os.environ.update(backends.env)
        from wsgi import app  # noqa: PLC0415  (after the environment is set)

        expires = int(time.time()) + 3000
        balance = [
            environ(
                "/api/v1/me/balance", {"Authorization": "Bearer " + mint(store["domain"], pid, keys["secret"], expires)}
            )
            for _, pid in seeded.sample
        ]
        summary = [environ(f"/api/v1/products/{PRODUCT}/reviews/summary", {"X-PPE-Store": keys["public_key"]})]
        if args.only in (None, "balance"):
            profile(app, "GET /api/v1/me/balance, every call a new customer", balance, args.calls, args.top, True)
            profile(app, "GET /api/v1/me/balance, 500 customers again and again", balance[:500], args.calls, args.top)
        if args.only in (None, "summary"):
            profile(app, "GET /api/v1/products/<id>/reviews/summary", summary, args.calls, args.top)
        if args.only in (None, "bare"):
            from bench.bare_app import app as bare  # noqa: PLC0415

            profile(bare, "bare Flask", [environ("/api/v1/bare", {"X-PPE-Store": keys["public_key"]})], args.calls, 10)
    except (OSError, RuntimeError, SQLAlchemyError) as exc:
        print(f"profile failed: {exc}")
        sys.exit(1)
    finally:
        backends.drop()
        cleanup_redis(args.redis_url)


if __name__ == "__main__":
    main()
