"""Time the segments at a million customers, on PostgreSQL: every segment's size (one pass), a page of a segment's
members, one customer's segments, the daily rhythm, a campaign's fan-out walk over `lapsed`; each beside the floor
measured in the same run, a bare `count(*)` of the store's customers (the scan any answer over all of them needs).

    .venv/bin/python -m bench.segments --admin-url postgresql://postgres@127.0.0.1/postgres [--customers N]

Seeds one store with --customers customers (set-based INSERT ... SELECT generate_series: orders counts, first and
last order over three years, spend in two currencies) and a tenth of them with a loyalty tier, plus three custom
segments, and a second store a tenth that size (the queries must not read it); migrated from Alembic as in
production. A database `ppe_bench_<hex>` is created and dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import text

from bench.backends import app_database
from bench.loyalty_report import ROOT

SEED = [
    """INSERT INTO customers (store_id, platform_id, email_key, currency, details_from_account, orders_count,
         total_spent, total_refunded, spent_by_currency, first_order_at, last_order_at, accepts_marketing,
         created_at, updated_at)
       SELECT :store, :store || '-' || n, 'c' || n || '@s' || :store, CASE WHEN n % 7 = 0 THEN 'USD' ELSE 'EUR' END,
         true, 1 + (n % 13) / 4, (n % 50000) / 100.0, 0,
         json_build_object(CASE WHEN n % 7 = 0 THEN 'USD' ELSE 'EUR' END, ((n % 50000) / 100.0)::text),
         :now - make_interval(days => 30 + (n % 1065)),
         :now - make_interval(days => 30 + (n % 1065))
           + make_interval(days => ((n::bigint * 7919) % (30 + n % 1065))::int),
         n % 3 = 0, :now, :now
       FROM generate_series(1, :customers) n""",
    """INSERT INTO loyalty_accounts (store_id, customer_id, balance, pending, spendable, held, lifetime_earned, tier,
         updated_at)
       SELECT :store, id, 0, 0, 0, 0, 0, CASE WHEN id % 3 = 0 THEN 'Gold' ELSE 'Silver' END, :now
       FROM customers WHERE store_id = :store AND id % 10 = 0""",
    """INSERT INTO segments (store_id, key, name, conditions, created_at, updated_at) VALUES
       (:store, 'big-eur', 'Big EUR', '[{"field": "spent", "op": "gte", "value": "300", "currency": "EUR"}]',
        :now, :now),
       (:store, 'gold-quiet', 'Gold gone quiet',
        '[{"field": "tier", "op": "eq", "value": "Gold"}, {"field": "last_order_days", "op": "gte", "value": 120}]',
        :now, :now),
       (:store, 'lapsed-loyal', 'Lapsed loyal',
        '[{"field": "lifecycle", "op": "eq", "value": "lapsed"}, {"field": "orders", "op": "gte", "value": 3}]',
        :now, :now)""",
]


def _best(compute, rounds: int) -> tuple[float, float]:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        compute()
        timings.append(time.perf_counter() - started)
    return min(timings), statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL"))
    args = parser.parse_args()
    if not args.admin_url:
        parser.error("--admin-url (PostgreSQL) is required: the seeding is PostgreSQL SQL")
    name = f"ppe_bench_{uuid.uuid4().hex[:10]}"
    with app_database(args.admin_url, name):
        from flask_migrate import upgrade

        from app import create_app
        from app.campaigns.runs import BATCH_SIZE
        from app.extensions import db
        from app.records.models import Customer
        from app.segments import rhythm, service
        from app.stores.models import Store

        app = create_app()
        try:
            with app.app_context():
                upgrade(directory=str(ROOT / "migrations"), revision="heads")
                now = datetime.now(UTC).replace(microsecond=0)
                stores = [Store(platform="shopify", domain=f"bench{i}.myshopify.com", currency="EUR") for i in (1, 2)]
                tier = {"basis": "amount_spent", "window": "lifetime", "multiplier": "1"}
                tiers = [{"name": "Silver", "threshold": "100", **tier}, {"name": "Gold", "threshold": "500", **tier}]
                for store in stores:
                    store.settings = {"loyalty": {"tiers": tiers}}
                db.session.add_all(stores)
                db.session.commit()
                started = time.perf_counter()
                for store, size in ((stores[0], args.customers), (stores[1], args.customers // 10)):
                    for statement in SEED:
                        db.session.execute(text(statement), {"store": store.id, "customers": size, "now": now})
                    db.session.commit()
                db.session.execute(text("ANALYZE"))
                db.session.commit()
                print(f"{args.customers} customers (and {args.customers // 10} in another store), "
                      f"seeded in {time.perf_counter() - started:.0f} s")  # fmt: skip
                store = stores[0]
                floor_sql = text("SELECT count(*) FROM customers WHERE store_id = :s")
                floor, _ = _best(lambda: db.session.execute(floor_sql, {"s": store.id}).scalar(), args.rounds)
                print(f"floor, count(*) of the store's customers: best {floor * 1000:.0f} ms")
                best, _ = _best(lambda: rhythm.compute(db.session, store, now), args.rounds)
                db.session.commit()
                print(f"rhythm (interval, VIP spend; daily): best {best * 1000:.0f} ms ({best / floor:.1f}x floor)")
                sizes: list = []
                best, median = _best(lambda: sizes.append(service.counts(db.session, store, now)), args.rounds)
                print(f"every segment's size ({len(sizes[-1])} segments, one pass): best {best * 1000:.0f} ms, "
                      f"median {median * 1000:.0f} ms ({best / floor:.1f}x floor)")  # fmt: skip
                for definition, size in sizes[-1]:
                    print(f"  {definition.key}: {size}")
                for key in ("lapsed", "vip", "gold-quiet"):
                    definition = service.find(db.session, store, key)
                    assert definition is not None
                    best, _ = _best(lambda d=definition: service.members(db.session, store, d, now, limit=100),
                                    args.rounds)  # fmt: skip
                    print(f"first page (100) of {key}: best {best * 1000:.1f} ms")
                # A campaign's fan-out (app/campaigns/runs.py): the whole of `lapsed` walked by keyset pages of
                # BATCH_SIZE ids (`id > cursor ORDER BY id LIMIT n`), as the fan-out jobs do, minus their writes.
                lapsed = service.find(db.session, store, "lapsed")
                assert lapsed is not None
                started, cursor, pages = time.perf_counter(), 0, 0
                while ids := list(db.session.scalars(service.member_ids(db.session, store, lapsed, now)
                                  .where(Customer.id > cursor).order_by(Customer.id).limit(BATCH_SIZE))):  # fmt: skip
                    cursor, pages = ids[-1], pages + 1
                walk = time.perf_counter() - started
                print(f"campaign fan-out over lapsed ({pages} pages of {BATCH_SIZE}): {walk:.2f} s, "
                      f"{walk / max(pages, 1) * 1000:.1f} ms a page ({walk / floor:.1f}x floor)")  # fmt: skip
                customer = db.session.query(Customer).filter_by(store_id=store.id).first()
                best, _ = _best(lambda: service.segments_of(db.session, store, customer, now), args.rounds)
                print(f"one customer's segments: best {best * 1000:.1f} ms")
                db.session.rollback()
        finally:
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
