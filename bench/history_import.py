"""History import rate: a store's past from the stand-in Shopify (bulk file) and WooCommerce (REST pages).

    .venv/bin/python -m bench.history_import --orders 5000       # see bench/README.md

A fresh PostgreSQL database (bench/backends.py), one Shopify and one WooCommerce store, the stand-in servers of
the test suite (tests/standins/) on loopback with ORDERS orders of ORDERS/5 customers each (paid, fulfilled and
delivered, every 4th refunded in part: tests/inbox/history.py). Each store's import runs in this process as
`flask stores import` runs it (inbox/history_import.run), timed end to end: the bulk query and its file, or the
REST pages, the parsing and the chunks' transactions. Baseline in the same run: PostgreSQL's own COPY of as
many order rows (the same columns the import fills) into a scratch table, the physical limit on this machine.
At the end every order and customer must be in the records, and no message or review request queued.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time
from typing import Any

from .backends import Backends


def _copy_rate(backends: Backends, rows: int) -> float:
    """Rows/s of COPY into a scratch table shaped like orders (what the import writes per order)."""
    import psycopg

    url = backends.url.set(drivername="postgresql").render_as_string(hide_password=False)
    buffer = io.StringIO()
    items = json.dumps([{"title": "Product", "quantity": 1, "price": "25.00"}] * 2)
    for n in range(rows):
        buffer.write(f"1\t{500000 + n}\tEUR\t{50 + n % 50}.00\t2025-03-01 12:00:00+00\t{items}\n")
    data = buffer.getvalue()
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE scratch_orders (store_id int, platform_id text, currency text, total numeric(18,4),"
            " placed_at timestamptz, line_items json)"
        )
        started = time.perf_counter()
        with conn.cursor().copy("COPY scratch_orders FROM STDIN") as copy:
            copy.write(data)
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE scratch_orders")
        conn.commit()
    return rows / elapsed


def _import(app: Any, store_id: int, points: bool) -> tuple[float, float]:
    """(seconds in all, seconds of the customers' phase: until its last chunk committed)."""
    from app.extensions import db
    from app.inbox.history_import import run
    from app.inbox.history_import import start as set_up
    from app.stores.models import Store

    with app.app_context():
        store = db.session.get(Store, store_id)
        set_up(db.session, store, earn_points=points, tiers_from_past=False, enqueue_job=False)
        db.session.commit()
        customers_done: list[float] = []
        started = time.perf_counter()

        def seen(row: Any) -> None:
            if row.phase == "customers":
                customers_done[:] = [time.perf_counter() - started]

        status = run(db.session, store_id, seen)
        elapsed = time.perf_counter() - started
        if status != "done":
            raise RuntimeError(f"import of store {store_id} ended {status}")
    return elapsed, customers_done[0] if customers_done else elapsed


def _check(app: Any, store_id: int, orders: int, customers: int) -> dict[str, int]:
    from app.extensions import db
    from tests.inbox.history import counts

    with app.app_context():
        found = counts(store_id)
        db.session.remove()
    if (found["orders"], found["customers"], found["messages"], found["review_requests"]) != (
        orders,
        customers,
        0,
        0,
    ):
        raise RuntimeError(f"store {store_id}: unexpected records {found}")
    return found


def run(args: argparse.Namespace, backends: Backends) -> dict[str, Any]:
    os.environ.update(backends.env)
    from app import create_app
    from app.config import Config
    from app.extensions import db
    from tests.helpers import SHOP, add_store, add_woo_store_at
    from tests.inbox.history import gql_customer, gql_order, woo_customer, woo_order
    from tests.standins.shopify import StandInServer, StandInShopify, admin_schema
    from tests.standins.woocommerce import WooStandin

    customers = max(1, args.orders // 5)
    app = create_app(Config())
    app.config["HISTORY_POLL_SECONDS"] = 0.05
    admin_schema()
    path = "batch" if args.batch else "bulk (PostgreSQL)"
    figures: dict[str, Any] = {"orders": args.orders, "customers": customers, "points": args.points, "path": path}
    with StandInServer(StandInShopify(api_key="key", api_secret="secret")) as shopify:
        shopify._access["shpat_test"] = (SHOP, float("inf"))
        app.config["SHOPIFY_ADMIN_ORIGIN"] = shopify.origin()
        bulk = shopify.state(SHOP).bulk
        bulk.customers = [gql_customer(n) for n in range(customers)]
        bulk.orders = [gql_order(n, customers) for n in range(args.orders)]
        site = WooStandin().start()
        site.keys["ck_test"] = {"secret": "cs_test", "permissions": "read_write", "key_id": 1}
        site.customers = [woo_customer(n) for n in range(customers)]
        site.orders = [woo_order(n, customers) for n in range(args.orders)]
        try:
            with app.app_context():
                shop_id = add_store("shopify", currency="EUR").id
                woo_id = add_woo_store_at(site).id
                db.session.remove()
            app.config["HISTORY_BULK"] = not args.batch
            for label, store_id in (("shopify", shop_id), ("woocommerce", woo_id)):
                if label not in args.platforms:
                    continue
                load = os.getloadavg()[0]
                seconds, customers_seconds = _import(app, store_id, args.points)
                orders_seconds = seconds - customers_seconds
                _check(app, store_id, args.orders, customers)
                figures[label] = {
                    "seconds": round(seconds, 2),
                    "rows_per_second": round((args.orders + customers) / seconds),
                    "customers_seconds": round(customers_seconds, 2),
                    "orders_seconds": round(orders_seconds, 2),
                    "orders_per_second": round(args.orders / orders_seconds),
                    "load_average": [round(load, 1), round(os.getloadavg()[0], 1)],
                }
        finally:
            site.stop()
    figures["postgres_copy_rows_per_second"] = round(_copy_rate(backends, args.orders))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the history import against PostgreSQL's COPY.")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4"))
    parser.add_argument("--orders", type=int, default=5000, help="orders per store (customers: a fifth of it)")
    parser.add_argument("--no-points", dest="points", action="store_false", help="no points for past orders")
    parser.add_argument("--batch", action="store_true", help="the batch path only (HISTORY_BULK=0), as before")
    parser.add_argument("--platforms", default="shopify,woocommerce", help="which stores to import")
    args = parser.parse_args()
    backends = Backends(args.database_url, args.redis_url)
    backends.check_redis()
    try:
        backends.create(stores=False)
        print(json.dumps(run(args, backends), indent=2))
    finally:
        backends.drop()


if __name__ == "__main__":
    main()
