"""Time the dashboard Overview's queries (every registered section) on a store with many orders, on PostgreSQL.

    .venv/bin/python -m bench.dashboard_overview --admin-url postgresql://postgres@127.0.0.1/postgres

Seeds, with set-based INSERT ... SELECT generate_series, one store with --orders orders (two currencies,
some cancelled and refunded) over two years from --orders / 4 customers, as many points ledger rows,
--orders / 10 reviews, / 50 referrals, / 3 e-mails, plus a second store a tenth that size (the page must not
read it); migrated from Alembic as in production. Then computes every section (app/dashboard/figures.py) for
the last 30 days and the last 365 days, --rounds times each, and prints the best and median wall time of the
whole page's queries. A database `ppe_bench_<hex>` is created and dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.loyalty_report import ROOT

SEED = [
    # customers: c<n>@s<store>
    """INSERT INTO customers (store_id, platform_id, email_key, currency, details_from_account, orders_count,
         total_spent, total_refunded, spent_by_currency, created_at, updated_at)
       SELECT :store, :store || '-' || n, 'c' || n || '@s' || :store, 'EUR', true, 0, 0, 0, '{}', :now, :now
       FROM generate_series(1, :customers) n""",
    # orders over two years; customer picked by a hash so some customers order often, some once
    """INSERT INTO orders (store_id, platform_id, customer_id, currency, total_price, subtotal_price,
         refunded_amount, discount_codes, line_items, placed_at, platform_updated_at, cancelled_at,
         created_at, updated_at)
       SELECT :store, n::text, c.first + ((n::bigint * 7919) % :customers),
         CASE WHEN n % 5 = 0 THEN 'USD' ELSE 'EUR' END, (n % 19000 + 500) / 100.0, (n % 19000 + 500) / 100.0,
         CASE WHEN n % 11 = 0 THEN 3.50 ELSE 0 END, '[]', '[]',
         :now - make_interval(secs => (n * 63072000.0 / :orders)), :now,
         CASE WHEN n % 29 = 0 THEN :now END, :now, :now
       FROM generate_series(1, :orders) n, (SELECT min(id) AS first FROM customers WHERE store_id = :store) c""",
    """INSERT INTO points_ledger (store_id, customer_id, source_key, kind, points, rule, created_at)
       SELECT :store, c.first + (n % :customers), 'bench:' || n,
         (ARRAY['earn','action','redeem','redeem_release','adjust','expire'])[1 + n % 6],
         CASE WHEN n % 6 IN (2, 5) THEN -(n % 300) ELSE n % 300 END, '{}',
         :now - make_interval(secs => (n * 63072000.0 / :orders))
       FROM generate_series(1, :orders) n, (SELECT min(id) AS first FROM customers WHERE store_id = :store) c""",
    """INSERT INTO reviews (store_id, product_id, order_platform_id, rating, photos, verified, status, created_at,
         updated_at)
       SELECT :store, (n % 500)::text, n::text, 1 + n % 5, '[]', true, 'published',
         :now - make_interval(secs => (n * 630720000.0 / :orders)), :now
       FROM generate_series(1, :orders / 10) n""",
    """INSERT INTO referrals (store_id, referrer_customer_id, order_platform_id, via, status, reasons, currency,
         order_total, reward, created_at, updated_at)
       SELECT :store, c.first + (n % :customers), n::text, 'discount_code',
         (ARRAY['pending','qualified','rewarded','void','flagged','rejected'])[1 + n % 6], '[]', 'EUR', 42.50, '{}',
         :now - make_interval(secs => (n * 3153600000.0 / :orders)), :now
       FROM generate_series(1, :orders / 50) n, (SELECT min(id) AS first FROM customers WHERE store_id = :store) c""",
    """INSERT INTO messages (store_id, channel, template, locale, dedupe_key, status, attempts, sent_at, created_at)
       SELECT :store, 'email', 'review_request', 'en', 'bench:' || n, 'sent', 1,
         :now - make_interval(secs => (n * 189216000.0 / :orders)), :now
       FROM generate_series(1, :orders / 3) n""",
]


def _time(compute, rounds: int) -> list[float]:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        compute()
        timings.append(time.perf_counter() - started)
    return timings


def _explain(db, store, period) -> None:
    """Each statement the sections run, with PostgreSQL's plan and timings."""
    from sqlalchemy import event

    from app.dashboard.figures import compute_sections

    seen: list[tuple[str, object]] = []
    engine = db.engine

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    compute_sections(db.session, store, period)
    event.remove(engine, "before_cursor_execute", capture)
    db.session.rollback()
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        for statement, parameters in seen:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            rows = raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).fetchall()
            print("\n".join(r[0] for r in rows), "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL"), required=False)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of every statement (30 days)")
    args = parser.parse_args()
    if not args.admin_url:
        parser.error("--admin-url (PostgreSQL) is required: the seeding is PostgreSQL SQL")
    name = f"ppe_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(args.admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.admin_url).set(drivername="postgresql+psycopg", database=name)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            {
                "DATABASE_URL": url.render_as_string(hide_password=False),
                "INSTANCE_PATH": tmp,
                "APP_ENV": "development",
                "SECRET_KEY": "bench",
                "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
            }
        )
        from flask_migrate import upgrade

        from app import create_app
        from app.dashboard.figures import SECTIONS, Period, compute_sections
        from app.extensions import db
        from app.stores.models import Store

        app = create_app()
        try:
            with app.app_context():
                upgrade(directory=str(ROOT / "migrations"), revision="heads")
                now = datetime.now(UTC).replace(microsecond=0)
                stores = [Store(platform="shopify", domain=f"bench{i}.myshopify.com", currency="EUR") for i in (1, 2)]
                db.session.add_all(stores)
                db.session.commit()
                started = time.perf_counter()
                for store, orders in ((stores[0], args.orders), (stores[1], args.orders // 10)):
                    params = {"store": store.id, "orders": orders, "customers": max(orders // 4, 1), "now": now}
                    for statement in SEED:
                        db.session.execute(text(statement), params)
                    db.session.commit()
                db.session.execute(text("ANALYZE"))
                db.session.commit()
                seeded = time.perf_counter() - started
                today = now.replace(hour=0, minute=0, second=0) + timedelta(days=1)
                print(f"{args.orders} orders (and {args.orders // 10} in another store), seeded in {seeded:.0f} s")
                if args.explain:
                    _explain(db, stores[0], Period(today - timedelta(days=30), today))
                for days in (30, 365):
                    period = Period(today - timedelta(days=days), today)
                    timings = _time(lambda p=period: compute_sections(db.session, stores[0], p), args.rounds)
                    db.session.rollback()
                    print(
                        f"overview, last {days} days: best {min(timings) * 1000:.0f} ms, "
                        f"median {statistics.median(timings) * 1000:.0f} ms"
                    )
                    for spec in sorted(SECTIONS.values(), key=lambda s: s.order):
                        db.session.execute(text("SET LOCAL jit = off"))  # as compute_sections does
                        best = min(_time(lambda p=period, c=spec.compute: c(db.session, stores[0], p), args.rounds))
                        db.session.rollback()
                        print(f"  {spec.key}: best {best * 1000:.0f} ms")
        finally:
            with app.app_context():
                db.engine.dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
