"""A worker's memory over the jobs other than the inbox's: RSS per N jobs over 1,000 stores, by job kind (issue 25).

    .venv/bin/python -m bench.worker_jobs --stores 1000 --kind push --rounds 4            # stand-ins answer
    .venv/bin/python -m bench.worker_jobs --stores 1000 --kind push --origin none          # the soak's config
    .venv/bin/python -m bench.worker_jobs --stores 1000 --kind client --rounds 6 --trace 8 # + tracemalloc

bench/worker_memory.py showed the inbox's processing levels off; the soak's workers also run loyalty write-back
pushes (one per store with dirty balances, `loyalty/writeback_tasks.push_balances`) and the outboxes' sends. Here
`--stores` stores (Shopify and WooCommerce alternating, as the soak's) each get `--customers` customers with a
dirty loyalty balance, and one process (this one: its RSS is the worker's) runs, `--rounds` times over every
store, one job kind as the rq worker calls it (outside any app context: `job_app()` builds the worker's app):
- `push`: push_balances(store_id), each round at a later `now` (a failed row's backoff has passed);
- `client`: only `stores/clients.client_for(store)` per store (what every push builds first), no HTTP;
- `write`: the client's write_loyalty of one balance per store, nothing written to the database.
`--origin standin`: a Shopify stand-in and a WooCommerce stand-in site (tests/standins/) in a child process, so
their state is not counted here; `--origin none`: as the soak ran, Shopify's https://{shop} and the stores'
https:// sites, which do not resolve here (each call fails at once: StoreUnavailable, rows postponed).
Prints RSS every `--every` jobs; with `--trace N`, tracemalloc's largest growths from the end of round 1 on.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import tracemalloc
from datetime import timedelta
from typing import Any

from .backends import ROOT, Backends
from .worker_memory import rss_mb


def serve(stores: int) -> None:
    """Child process: the stand-ins on loopback, one access token per Shopify shop; their URLs on stdout."""
    from tests.standins.shopify import StandInServer, StandInShopify, admin_schema
    from tests.standins.woocommerce import WooStandin

    admin_schema()
    with StandInServer(StandInShopify(api_key="key", api_secret="secret")) as shopify:
        for n in range(0, stores, 2):
            shopify._access[f"tok-{n}"] = (shop_domain(n), float("inf"))
        site = WooStandin().start()
        site.keys["ck_test"] = {"secret": "cs_test", "permissions": "read_write", "key_id": 1}
        print(json.dumps({"shopify": shopify.origin(), "woo": site.url}), flush=True)
        sys.stdin.read()  # until the parent closes our stdin
        site.stop()


def shop_domain(n: int) -> str:
    return f"memshop{n}.myshopify.com"


def create(app: Any, stores: int, customers: int, woo_url: str | None) -> list[int]:
    from sqlalchemy import text

    from app.extensions import db
    from app.security import secret_box
    from app.stores.models import WooStoreState
    from app.stores.service import add_store

    from .soak_check import _seeded_customers

    ids = []
    with app.app_context():
        for n in range(stores):
            if n % 2 == 0:
                platform, domain, currency = "shopify", shop_domain(n), "USD"
                creds: dict[str, str] = {"access_token": f"tok-{n}"}
            else:
                platform, domain, currency = "woocommerce", f"https://memwoo{n}.example", "EUR"
                creds = {"consumer_key": "ck_test", "consumer_secret": "cs_test", "webhook_secret": "ws"}
            store = add_store(db.session, secret_box(), platform, domain, creds, currency=currency)
            if platform == "woocommerce":
                db.session.add(WooStoreState(store_id=store.id, api_url=woo_url or domain, webhooks={}))
            db.session.execute(_seeded_customers(store.id, currency, customers))
            ids.append(store.id)
        db.session.commit()
        db.session.execute(
            text(
                "INSERT INTO loyalty_accounts (store_id, customer_id, balance, pending, spendable, held,"
                " lifetime_earned, updated_at) SELECT store_id, id, 100, 0, 100, 0, 100, now() FROM customers"
            )
        )
        db.session.commit()
        db.session.remove()
    dirty(app)
    return ids


def dirty(app: Any) -> None:
    """Every customer's balance dirty again (a pushed row is deleted; a postponed one stays)."""
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO loyalty_writebacks (store_id, customer_id, dirty_since, generation, attempts)"
                " SELECT c.store_id, c.id, now(), 1, 0 FROM customers c WHERE NOT EXISTS (SELECT 1 FROM"
                " loyalty_writebacks w WHERE w.store_id = c.store_id AND w.customer_id = c.id)"
            )
        )
        db.session.commit()
        db.session.remove()


def run_jobs(args: argparse.Namespace, ids: list[int]) -> None:
    from app.loyalty.writeback_tasks import push_balances
    from app.platform.jobs import job_app
    from app.platform.types import utcnow

    app = job_app()  # the worker's app, built once per process (platform/worker.py)
    if args.kind in ("client", "write"):
        from app.extensions import db
        from app.stores.clients import NotConnected, client_for
        from app.stores.models import Store
        from connectors.writeback import LoyaltyBalance

        def job(store_id: int, _round: int) -> Any:
            with app.app_context():
                try:
                    client = client_for(db.session.get(Store, store_id))
                    if args.kind == "write":  # one customer's balance, nothing written back to the database
                        error = client.write_loyalty([LoyaltyBalance("8000000000", 100, None)], max_calls=1).error
                        return {"status": type(error).__name__ if error else "written"}
                    return None
                except NotConnected:
                    return None
                finally:
                    db.session.remove()
    else:
        start = utcnow()

        def job(store_id: int, round_: int) -> Any:
            return push_balances(store_id, now=start + timedelta(days=round_))

    done, first, statuses = 0, None, {}
    wall = time.perf_counter()
    print(f"before the first job: RSS {rss_mb():.1f} MB", flush=True)
    for round_ in range(args.rounds):
        if round_ and args.kind == "push":
            dirty(app)
        for store_id in ids:
            result = job(store_id, round_)
            if isinstance(result, dict):
                statuses[result["status"]] = statuses.get(result["status"], 0) + 1
            done += 1
            if args.collect:
                gc.collect()
            if done % args.every == 0:
                contexts = sum(1 for o in gc.get_objects() if isinstance(o, ssl.SSLContext))
                print(
                    f"{done:6d} jobs  RSS {rss_mb():7.1f} MB  {time.perf_counter() - wall:6.1f} s  {statuses}"
                    f"  SSL contexts alive {contexts}  gc counts {gc.get_count()}"
                    f"  (load average {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
        if args.trace and first is None:
            gc.collect()
            tracemalloc.start(args.trace)
            first = tracemalloc.take_snapshot()
    if first is not None:
        gc.collect()
        last = tracemalloc.take_snapshot()
        keep = [tracemalloc.Filter(False, tracemalloc.__file__)]
        stats = last.filter_traces(keep).compare_to(first.filter_traces(keep), "traceback")
        print(f"\ntraced heap growth after round 1: {sum(s.size_diff for s in stats) / 1e6:.1f} MB")
        for stat in stats[: args.top]:
            print(f"\n{stat.size_diff / 1e6:+.2f} MB, {stat.count_diff:+d} blocks")
            for frame in stat.traceback.format()[-2 * args.trace :]:
                print("   ", frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--admin-url", default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"))
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=3, help="customers with a dirty balance per store")
    parser.add_argument("--kind", choices=("push", "client", "write"), default="push")
    parser.add_argument("--origin", choices=("standin", "none"), default="standin")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--every", type=int, default=500, help="print RSS every this many jobs")
    parser.add_argument("--trace", type=int, default=0, help="tracemalloc frames per allocation (0: off)")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--collect", action="store_true", help="gc.collect() after every job")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    backends = Backends(args.admin_url, args.redis_url)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the database is dropped on a kill too
    child = None
    try:
        urls: dict[str, str | None] = {"shopify": None, "woo": None}
        if args.origin == "standin":
            argv = [sys.executable, "-m", "bench.worker_jobs", "--serve", str(args.stores)]
            quiet = subprocess.DEVNULL  # the stand-ins' request log
            child = subprocess.Popen(
                argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=quiet, text=True
            )
            assert child.stdout is not None
            urls = json.loads(child.stdout.readline())
            backends.env["SHOPIFY_ADMIN_ORIGIN"] = str(urls["shopify"])
        backends.create(stores=False)
        os.environ.update(backends.env)
        from app import create_app

        made = time.perf_counter()
        ids = create(create_app(), args.stores, args.customers, urls["woo"])
        print(
            f"{len(ids)} stores x {args.customers} dirty balances in {time.perf_counter() - made:.0f} s;"
            f" kind {args.kind}, origin {args.origin}; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        run_jobs(args, ids)
    finally:
        if child is not None:
            child.communicate("", timeout=10)
        backends.drop()


if __name__ == "__main__":
    main()
