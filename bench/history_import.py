"""History import rate: a store's past from the stand-in Shopify (bulk file) and WooCommerce (REST pages).

    .venv/bin/python -m bench.history_import --orders 5000 [--no-points] [--batch] [--platforms woocommerce]
    .venv/bin/python -m bench.history_import --orders 0 --customers 20000 [--loyalty-per-account]  (customers only)
    .venv/bin/python -m bench.history_import --orders 20000 [--loyalty-per-order]  (points for past orders)
    .venv/bin/python -m bench.history_import --orders 20000 --kill-half [--lease wait]  (bench/history_kill.py)
    .venv/bin/python -m bench.history_import --platforms woocommerce --woo-page-seconds 0.3 --woo-pages-in-flight 1

A fresh PostgreSQL database (bench/backends.py), one Shopify and one WooCommerce store, the stand-ins
(bench/history_standins.py) with ORDERS orders of ORDERS/5 customers each (paid, fulfilled and delivered, every 4th
refunded in part: tests/inbox/history.py), each made when a page or the bulk file asks for it. Each store's import
runs in this process as `flask stores import` runs it (inbox/history_import.run), timed end to end and per phase
(customers: the batch path; orders: the bulk path on PostgreSQL, or the batch path with --batch): the bulk
operation (bulkOperationRunQuery, polled until COMPLETED) and the download of its file over HTTP, or the REST pages,
the parsing and the chunks' transactions. The issue's input is a bulk file that exists: the stand-in makes the
Shopify files BEFORE the window (or takes them from /tmp/ppe-bench-bulk-files, made by the same code for the same
orders and customers), and prints how long making them took ("shopify_bulk_files"); the operations still run,
answer RUNNING to the first poll and COMPLETED to the next, and serve the file. With --bulk-files during, the
stand-in writes each file while the import polls, as the bench did until 2026-12-07's night: that time is then
in the window (the orders' file of a million orders took 55-59 s of the orders' phase). Baseline in the same
run: PostgreSQL's own COPY of the same rows (customers, orders, refunds, parcels) into scratch tables, the physical
limit on this machine. The load average is printed beside each import (the machine is shared). At the end every
order and customer must be in the records with the refunds and sums the generator made (worked out from n), and no
message or review request queued.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import cpu
from .backends import Backends
from .history_standins import standins


def _copy_rate(backends: Backends, orders: int, customers: int) -> tuple[float, int]:
    """(rows/s, rows) of COPY of the rows the import writes, shaped as it writes them, into scratch tables: the
    customers, the orders (two line items each), a refund every 4th order, a parcel per order."""
    import psycopg

    url = backends.url.set(drivername="postgresql").render_as_string(hide_password=False)
    at = "2025-03-01 12:00:00+00"
    items = json.dumps([{"id": "1", "title": "Product", "quantity": 1, "price": "25.00"}] * 2)
    tables = {
        "scratch_customers (store_id int, platform_id text, email text, email_key text, first_name text,"
        " last_name text, locale text, orders_count int, total_spent numeric(18,4), spent_by_currency json,"
        " first_order_at timestamptz, last_order_at timestamptz)": (
            f"1\t{7000 + n}\tc{n}@example.com\tc{n}@example.com\tFirst{n}\tLast{n}\ten\t5\t250.00\t"
            f'{{"EUR": "250.00"}}\t{at}\t{at}\n'
            for n in range(customers)
        ),
        "scratch_orders (store_id int, platform_id text, customer_id bigint, name text, currency text,"
        " total numeric(18,4), subtotal numeric(18,4), financial_status text, placed_at timestamptz,"
        " updated_at timestamptz, paid_at timestamptz, line_items json)": (
            f"1\t{500000 + n}\t{n % customers}\t#{1000 + n}\tEUR\t{50 + n % 50}.00\t{50 + n % 50}.00\tpaid\t"
            f"{at}\t{at}\t{at}\t{items}\n"
            for n in range(orders)
        ),
        "scratch_refunds (store_id int, order_platform_id text, platform_id text, amount numeric(18,4),"
        " currency text, refunded_at timestamptz)": (
            f"1\t{500000 + n}\t{900000 + n}\t10.00\tEUR\t{at}\n" for n in range(0, orders, 4)
        ),
        "scratch_parcels (store_id int, order_platform_id text, platform_id text, status text, shipment_status"
        " text, shipped_at timestamptz, delivered_at timestamptz, carrier_statuses json)": (
            f'1\t{500000 + n}\t{800000 + n}\tsuccess\tdelivered\t{at}\t{at}\t["delivered"]\n' for n in range(orders)
        ),
    }
    data = {shape: "".join(lines) for shape, lines in tables.items()}
    rows = sum(text.count("\n") for text in data.values())
    with psycopg.connect(url) as conn:
        for shape in data:
            conn.execute(f"CREATE TABLE {shape}")
        conn.commit()
        started = time.perf_counter()
        for shape, text in data.items():
            with conn.cursor().copy(f"COPY {shape.split(' ', 1)[0]} FROM STDIN") as copy:
                copy.write(text)
        conn.commit()
        elapsed = time.perf_counter() - started
        for shape in data:
            conn.execute(f"DROP TABLE {shape.split(' ', 1)[0]}")
        conn.commit()
    return rows / elapsed, rows


def _import(app: Any, store_id: int, points: bool, statements: str = "") -> tuple[float, float, float]:
    """(seconds in all, seconds of the customers' phase: until its last chunk committed, CPU seconds of this
    process in the orders' phase: parsing, the chunks' Python, and the stand-ins' own work only when inline; less
    sensitive to the shared machine's load than the wall clock; PostgreSQL's own CPU is not in it)."""
    from app.extensions import db
    from app.inbox.history_import import run
    from app.inbox.history_import import start as set_up
    from app.stores.models import Store
    from tests.inbox.history import counts as row_counts

    from . import statement_times

    with app.app_context():
        store = db.session.get_one(Store, store_id)
        set_up(db.session, store, earn_points=points, tiers_from_past=False, enqueue_job=False)
        db.session.commit()
        customers_done: list[float] = []
        cpu_done: list[float] = []
        marks: list[Any] = []  # with --statements: (statement times, backends' CPU) when the customers were done
        started, cpu_started = time.perf_counter(), time.process_time()

        def seen(row: Any) -> None:
            if row.phase == "customers":
                customers_done[:] = [time.perf_counter() - started]
                cpu_done[:] = [time.process_time() - cpu_started]
                if statements:
                    marks[:] = [statement_times.snapshot(), statement_times.backends_cpu(statements)]

        status = run(db.session, store_id, seen)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        if statements and marks:
            after, backend_cpu = statement_times.snapshot(), statement_times.backends_cpu(statements)
            orders = int(row_counts(store_id)["orders"])
            print(f"store {store_id} orders' phase: PostgreSQL backends' CPU {backend_cpu - marks[1]:.1f} s")
            print("\n".join(statement_times.table(marks[0], after, orders)))
        if status != "done":
            raise RuntimeError(f"import of store {store_id} ended {status}")
    return elapsed, customers_done[0] if customers_done else elapsed, cpu - (cpu_done[0] if cpu_done else cpu)


def _check(app: Any, store_id: int, orders: int, customers: int) -> dict[str, int]:
    """Every generated order and customer recorded, the refunds and the money as the generator made them (worked
    out from the order numbers: tests/inbox/history.expected), no message or review request queued."""
    from app.extensions import db
    from tests.inbox.history import counts, expected, recorded

    with app.app_context():
        found, totals = counts(store_id), recorded(store_id)
        db.session.remove()
    want = expected(orders, customers)
    if totals != want or (found["messages"], found["review_requests"]) != (0, 0):
        raise RuntimeError(f"store {store_id}: unexpected records {found} {totals}, expected {want}")
    return found


@contextmanager
def _accounts_loyalty(*, per_account: bool, per_order: bool = False) -> Iterator[None]:
    """With per_account, the customers' bulk path runs loyalty's handler once per account, as before loyalty's
    set-based hook (loyalty/imported.py) was registered; with per_order, the orders' bulk path hands past orders
    to the loyalty follower one by one, as before its set-based twin (loyalty/imported_orders.py): the baselines
    of the same code in the same run."""
    from app.inbox.history_bulk_customers import ACCOUNTS_HOOKS
    from app.inbox.history_bulk_past import PAST_ORDERS_HOOKS

    held, twins = dict(ACCOUNTS_HOOKS), dict(PAST_ORDERS_HOOKS)
    if per_account:
        ACCOUNTS_HOOKS.clear()
    if per_order:
        PAST_ORDERS_HOOKS.clear()
    try:
        yield
    finally:
        ACCOUNTS_HOOKS.update(held)
        PAST_ORDERS_HOOKS.update(twins)


def run(args: argparse.Namespace, backends: Backends) -> dict[str, Any]:
    os.environ.update(backends.env)
    from app import create_app
    from app.config import Config
    from app.extensions import db
    from tests.helpers import add_store, add_woo_store_at

    customers = args.customers or max(1, args.orders // 5)
    statements = ""
    if args.statements:
        from . import statement_times

        statement_times.install()
        statements = backends.url.set(drivername="postgresql").render_as_string(hide_password=False)
    app = create_app(Config())
    app.config["HISTORY_POLL_SECONDS"] = 0.05
    if args.woo_pages_in_flight:
        app.config["HISTORY_WOO_PAGES_IN_FLIGHT"] = args.woo_pages_in_flight
    path = "batch" if args.batch else "bulk (PostgreSQL)"
    # The rows the import writes: customers, orders, a refund every 4th order, a parcel per order (COPY's too).
    rows = customers + args.orders + len(range(0, args.orders, 4)) + args.orders
    figures: dict[str, Any] = {
        "orders": args.orders,
        "customers": customers,
        "rows": rows,
        "points": args.points,
        "path": path,
        "accounts_loyalty": "per account (handler)" if args.loyalty_per_account else "per chunk (set-based)",
        "past_orders_loyalty": "per order (follower)" if args.loyalty_per_order else "per chunk (set-based)",
    }
    made: dict[str, Any] = {}
    with standins(
        args.orders,
        customers,
        args.platforms,
        apart=not args.standins_inline,
        page_seconds=args.woo_page_seconds,
        bulk_files=args.bulk_files,
        made=made,
    ) as (shopify, site):
        if "shopify" in args.platforms:
            # Per query: seconds the stand-in took to make the file before the window, or "cached", or "in the window".
            figures["shopify_bulk_files"] = made or {"customers": "in the window", "orders": "in the window"}
        app.config["SHOPIFY_ADMIN_ORIGIN"] = shopify.origin()
        with app.app_context():
            shop_id = add_store("shopify", currency="EUR").id
            woo_id = add_woo_store_at(site).id
            db.session.remove()
        app.config["HISTORY_BULK"] = not args.batch
        for label, store_id in (("shopify", shop_id), ("woocommerce", woo_id)):
            if label not in args.platforms:
                continue
            load, standin_cpu = os.getloadavg()[0], cpu.children()
            with _accounts_loyalty(per_account=args.loyalty_per_account, per_order=args.loyalty_per_order):
                seconds, customers_seconds, orders_cpu = _import(app, store_id, args.points, statements)
            standin_cpu = cpu.children() - standin_cpu
            orders_seconds = seconds - customers_seconds
            _check(app, store_id, args.orders, customers)
            figures[label] = {
                "seconds": round(seconds, 2),
                "rows_per_second": round(rows / seconds),
                "customers_seconds": round(customers_seconds, 2),
                "customers_per_second": round(customers / customers_seconds),
                "orders_seconds": round(orders_seconds, 2),
                "orders_per_second": round(args.orders / orders_seconds),
                "orders_cpu_seconds": round(orders_cpu, 2),  # this process only (module docstring)
                "standins_cpu_seconds": round(standin_cpu, 2),  # the stand-ins' process, both phases (apart only)
                "load_average": [round(load, 1), round(os.getloadavg()[0], 1)],
            }
    copy_rate, copied = _copy_rate(backends, args.orders, customers)
    assert copied == rows
    figures["postgres_copy_rows_per_second"] = round(copy_rate)
    for label in ("shopify", "woocommerce"):
        if label in figures:
            figures[label]["vs_copy"] = f"1/{copy_rate / figures[label]['rows_per_second']:.0f}"
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the history import against PostgreSQL's COPY.")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4"))
    parser.add_argument("--orders", type=int, default=5000, help="orders per store (customers: a fifth of it)")
    parser.add_argument("--customers", type=int, default=0, help="customers per store (default: a fifth of --orders)")
    parser.add_argument("--no-points", dest="points", action="store_false", help="no points for past orders")
    parser.add_argument(
        "--loyalty-per-account",
        action="store_true",
        help="the customers' bulk path calls loyalty's handler per account (the baseline before its set-based hook)",
    )
    parser.add_argument(
        "--statements", action="store_true", help="print the orders' phase time per statement kind (statement_times)"
    )
    parser.add_argument(
        "--loyalty-per-order",
        action="store_true",
        help="the orders' bulk path hands past orders to the loyalty follower one by one (before its set-based twin)",
    )
    parser.add_argument("--batch", action="store_true", help="the batch path only (HISTORY_BULK=0), as before")
    parser.add_argument("--platforms", default="shopify,woocommerce", help="which stores to import")
    parser.add_argument(
        "--woo-pages-in-flight", type=int, default=0, help="HISTORY_WOO_PAGES_IN_FLIGHT (default: the app's)"
    )
    parser.add_argument(
        "--woo-page-seconds",
        type=float,
        default=0.0,
        help="the WooCommerce stand-in sleeps this long over each page, as a real store's PHP takes 0.3-1 s",
    )
    parser.add_argument(
        "--standins-inline",
        action="store_true",
        help="the stand-ins serve from threads of the bench's process (sharing its GIL), not a process of their own",
    )
    parser.add_argument(
        "--bulk-files",
        choices=("before", "during"),
        default="before",
        help="the stand-in makes the Shopify bulk files before the timed window (cached under /tmp), or while the "
        "import polls, inside it (the old way)",
    )
    parser.add_argument(
        "--kill-half",
        action="store_true",
        help="kill -9 the import command half way, resume it, compare with an uninterrupted one (history_kill.py)",
    )
    parser.add_argument(
        "--lease",
        choices=("release", "wait"),
        default="release",
        help="with --kill-half: delete the dead runner's lock (as its lapse would) or wait for its lease to lapse",
    )
    parser.add_argument(
        "--chunk", type=int, default=0, help="with --kill-half: HISTORY_BULK_CHUNK (default: the app's)"
    )
    parser.add_argument(
        "--kill-delay", type=float, default=0.0, help="with --kill-half: seconds to wait once half is committed"
    )
    args = parser.parse_args()
    if args.kill_half:
        from .history_kill import main as kill_half

        raise SystemExit(kill_half(args))
    backends = Backends(args.database_url, args.redis_url)
    backends.check_redis()
    try:
        backends.create(stores=False)
        print(json.dumps(run(args, backends), indent=2))
    finally:
        backends.drop()


if __name__ == "__main__":
    main()
