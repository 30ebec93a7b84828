"""Time the dashboard Overview's queries (every registered section) on a store with many orders, on PostgreSQL.

    .venv/bin/python -m bench.dashboard_overview --admin-url postgresql://postgres@127.0.0.1/postgres

Seeds, with set-based INSERT ... SELECT generate_series, one store with --orders orders (two currencies, some
cancelled and refunded) over two years from --orders / 4 customers, as many points ledger rows, --orders / 10
reviews (/ 5 review requests), / 50 referrals, / 3 e-mails, a loyalty account per customer, plus a second store a
tenth that size (the page must not read it); migrated from Alembic as in production. The records' derived columns
are then computed as the records keep them (customers.first_order_at; the order chains and the daily rollup by
records/order_days.rebuild; the ledger's by loyalty/points_days.rebuild; timed), and the tables vacuumed (as
autovacuum would). Then, for the last 30, 90 and 365 days (--days), --rounds times each, alternating: the whole
page's queries *before* (the orders section from the raw table and loyalty's from the ledger rows,
bench/overview_raw.py, as they were) and *after* (every section as the page computes it), with the best and median
wall time and their ratio, and each section's best (before and after where they differ). A database
`ppe_bench_<hex>` is created and dropped at the end; or, with --database NAME --keep, kept, so that a later run
with --database NAME --reuse times the same rows again without the half hour of seeding and rebuilding
(migrations still run to the head, so a new index or rollup is built on the kept rows).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, func, select, text

from bench.backends import app_database
from bench.loyalty_report import ROOT

SEED = [
    # customers: c<n>@s<store>, one in ten buying in USD (the liability is per customer's currency)
    """INSERT INTO customers (store_id, platform_id, email_key, currency, details_from_account, orders_count,
         total_spent, total_refunded, spent_by_currency, created_at, updated_at)
       SELECT :store, :store || '-' || n, 'c' || n || '@s' || :store, CASE WHEN n % 10 = 0 THEN 'USD' ELSE 'EUR' END,
         true, 0, 0, 0, '{}', :now, :now
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
    # every customer's cached sums (what loyalty/refresh.py keeps): the liability reads them all, whatever the period
    """INSERT INTO loyalty_accounts (store_id, customer_id, balance, pending, spendable, held, lifetime_earned,
         expires_at, updated_at)
       SELECT :store, c.id, c.id % 700, c.id % 100, c.id % 700 - c.id % 100, 0, c.id % 900,
         :now + make_interval(days => (c.id % 400)::int), :now
       FROM customers c WHERE c.store_id = :store""",
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
    # one review request per reviewed order (and as many again unanswered), sent a week before the review
    """INSERT INTO review_requests (store_id, order_platform_id, fulfillment_key, status, attempts, follow_up, sent_at,
         created_at, updated_at)
       SELECT :store, n::text, '', 'sent', 1, false,
         :now - make_interval(secs => (n * 630720000.0 / :orders)) - interval '7 days', :now, :now
       FROM generate_series(1, :orders / 5) n""",
    """UPDATE reviews r SET request_id = q.id FROM review_requests q
       WHERE r.store_id = :store AND q.store_id = :store AND q.order_platform_id = r.order_platform_id""",
    # what records/customers.apply_totals keeps: the first order placed and not deleted (the cohorts)
    """UPDATE customers c SET first_order_at = m.first FROM (
         SELECT customer_id, min(placed_at) AS first FROM orders
         WHERE store_id = :store AND deleted_at IS NULL GROUP BY customer_id) m
       WHERE c.store_id = :store AND c.id = m.customer_id""",
]


def _time(compute, rounds: int) -> list[float]:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        compute()
        timings.append(time.perf_counter() - started)
    return timings


def _page(db, store, period, computes) -> None:
    """The page's queries as compute_sections runs them (JIT off for the transaction), with these computes."""
    db.session.execute(text("SET LOCAL jit = off"))
    for compute in computes:
        compute(db.session, store, period)


def admin_of(url):
    return create_engine(url, isolation_level="AUTOCOMMIT")


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
        raw.execute("SET jit = off")  # as compute_sections runs them
        for statement, parameters in seen:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            rows = raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).fetchall()
            print("\n".join(r[0] for r in rows), "\n")


def _seed(db, orders: int, url) -> tuple[list, datetime]:
    """Two stores' histories (the second a tenth of the first), then the records' derived columns, timed."""
    from app.loyalty import points_days
    from app.records import order_days
    from app.stores.models import Store

    now = datetime.now(UTC).replace(microsecond=0)
    stores = [Store(platform="shopify", domain=f"bench{i}.myshopify.com", currency="EUR") for i in (1, 2)]
    db.session.add_all(stores)
    db.session.commit()
    started = time.perf_counter()
    for store, count in ((stores[0], orders), (stores[1], orders // 10)):
        params = {"store": store.id, "orders": count, "customers": max(count // 4, 1), "now": now}
        for statement in SEED:
            db.session.execute(text(statement), params)
        db.session.commit()
    seeded = time.perf_counter() - started
    db.session.execute(text("ANALYZE"))  # the planner's statistics, as a live database has them
    db.session.commit()
    started = time.perf_counter()
    for store in stores:
        order_days.rebuild(db.session, store.id)
        points_days.rebuild(db.session, store.id)  # the ledger's daily rollup, as its writes keep it
        db.session.commit()
    rebuilt = time.perf_counter() - started
    print(
        f"{orders} orders (and {orders // 10} in another store), seeded in {seeded:.0f} s; "
        f"chains and daily rollups rebuilt from scratch in {rebuilt:.0f} s"
    )
    return stores, now


def _kept_stores(db) -> list:
    """The stores a --keep run seeded (its rows end at that run's time, so the periods reach a little past them)."""
    from app.records.models import Order
    from app.stores.models import Store

    stores = [db.session.scalar(select(Store).filter_by(domain=f"bench{i}.myshopify.com")) for i in (1, 2)]
    if None in stores:
        raise SystemExit("--reuse: this database holds no seeded bench stores")
    orders = db.session.scalar(select(func.count()).select_from(Order).where(Order.store_id == stores[0].id))
    print(f"reusing the kept rows: {orders} orders in the timed store")
    return stores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL"), required=False)
    parser.add_argument("--explain", type=int, metavar="DAYS", help="print EXPLAIN ANALYZE of every statement")
    parser.add_argument("--days", type=int, nargs="*", default=[30, 90, 365], help="periods timed (none: seed only)")
    parser.add_argument("--database", help="the database's name (default: a fresh ppe_bench_<hex>)")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end (with --database)")
    parser.add_argument("--reuse", action="store_true", help="time a kept --database's rows, without seeding")
    args = parser.parse_args()
    if not args.admin_url:
        parser.error("--admin-url (PostgreSQL) is required: the seeding is PostgreSQL SQL")
    if (args.keep or args.reuse) and not args.database:
        parser.error("--keep and --reuse need --database")
    name = args.database or f"ppe_bench_{uuid.uuid4().hex[:10]}"
    with app_database(args.admin_url, name, create=not args.reuse, keep=args.keep) as url:
        from flask_migrate import upgrade

        from app import create_app
        from app.dashboard.figures import SECTIONS, Period
        from app.extensions import db
        from bench import overview_raw

        app = create_app()
        try:
            with app.app_context():
                upgrade(directory=str(ROOT / "migrations"), revision="heads")
                if args.reuse:
                    stores = _kept_stores(db)
                    now = datetime.now(UTC).replace(microsecond=0)
                else:
                    stores, now = _seed(db, args.orders, url)
                with admin_of(url).connect() as conn:  # index-only scans need the visibility map autovacuum keeps
                    conn.execute(text("VACUUM ANALYZE"))
                today = now.replace(hour=0, minute=0, second=0) + timedelta(days=1)
                if args.explain:
                    _explain(db, stores[0], Period(today - timedelta(days=args.explain), today))
                specs = sorted(SECTIONS.values(), key=lambda s: s.order)
                raw = [overview_raw.BEFORE.get(s.key, s.compute) for s in specs]
                now_ = [s.compute for s in specs]
                for days in args.days:
                    period = Period(today - timedelta(days=days), today)
                    timings: dict[str, list[float]] = {"before": [], "after": []}
                    for _ in range(args.rounds):  # alternated: the same machine state for both
                        for name, computes in (("before", raw), ("after", now_)):
                            timings[name] += _time(lambda p=period, c=computes: _page(db, stores[0], p, c), 1)
                            db.session.rollback()
                    before, after = timings["before"], timings["after"]
                    print(
                        f"overview, last {days} days: before best {min(before) * 1000:.0f} ms "
                        f"(median {statistics.median(before) * 1000:.0f}), after best {min(after) * 1000:.0f} ms "
                        f"(median {statistics.median(after) * 1000:.0f}): {min(before) / min(after):.1f}x"
                    )
                    for spec in specs:
                        best = min(_time(lambda p=period, c=spec.compute: _page(db, stores[0], p, [c]), args.rounds))
                        db.session.rollback()
                        line = f"  {spec.key}: best {best * 1000:.0f} ms"
                        if (was := overview_raw.BEFORE.get(spec.key)) is not None:
                            old = min(_time(lambda p=period, c=was: _page(db, stores[0], p, [c]), args.rounds))
                            db.session.rollback()
                            line += f" (before: {old * 1000:.0f} ms)"
                        print(line, f"load average {open('/proc/loadavg').read().split()[0]}")
        finally:
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
