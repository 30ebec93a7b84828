"""Time the loyalty liability report on a store with many customers.

    .venv/bin/python -m bench.loyalty_report                       # SQLite in a temporary directory
    .venv/bin/python -m bench.loyalty_report --admin-url postgresql://postgres@127.0.0.1/postgres

Seeds one store with --customers customers (two currencies) and their loyalty accounts, plus a second
store of the same size (the report must not read it), migrated from Alembic as in production; then runs
loyalty.report.liability_report --rounds times and prints the best and median wall time.
A PostgreSQL database `ppe_bench_<hex>` is created and dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent


def _database(admin_url: str | None, tmp: str) -> tuple[str, str | None]:
    if not admin_url:
        return f"sqlite:///{tmp}/bench.db", None
    name = f"ppe_bench_{uuid.uuid4().hex[:10]}"
    url = make_url(admin_url).set(drivername="postgresql+psycopg")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False), name


def _seed(db, store_id: int, customers: int, now: datetime) -> None:
    from app.loyalty.models import LoyaltyAccount
    from app.records.models import Customer

    batch = 5000
    for start in range(0, customers, batch):
        people = [
            {
                "store_id": store_id,
                "platform_id": f"{store_id}-{i}",
                "email_key": f"c{i}@s{store_id}.example",
                "currency": "EUR" if i % 4 else "USD",
                "orders_count": 1,
                "details_from_account": True,
                "spent_by_currency": {},
                "created_at": now,
                "updated_at": now,
            }
            for i in range(start, min(start + batch, customers))
        ]
        ids = db.session.scalars(insert(Customer).returning(Customer.id), people).all()
        accounts = [
            {
                "store_id": store_id,
                "customer_id": cid,
                "balance": 150,
                "pending": 50,
                "spendable": 100,
                "held": 0,
                "lifetime_earned": 150,
                "expires_at": now + timedelta(days=(cid % 365)),
                "updated_at": now,
            }
            for cid in ids
        ]
        db.session.execute(insert(LoyaltyAccount), accounts)
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url, dropped = _database(args.admin_url, tmp)
        os.environ.update(
            {
                "DATABASE_URL": url,
                "INSTANCE_PATH": tmp,
                "APP_ENV": "development",  # a PostgreSQL URL means production (app/config.py)
                "SECRET_KEY": "bench",
                "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
            }
        )
        from flask_migrate import upgrade

        from app import create_app
        from app.extensions import db
        from app.loyalty.report import liability_report
        from app.loyalty.settings import update_settings
        from app.stores.models import Store

        app = create_app()
        try:
            with app.app_context():
                upgrade(directory=str(ROOT / "migrations"), revision="heads")
                now = datetime.now(UTC)
                stores = [Store(platform="shopify", domain=f"bench{i}.myshopify.com", currency="EUR") for i in (1, 2)]
                db.session.add_all(stores)
                db.session.commit()
                rewards = [{"id": "eur5", "type": "fixed_amount", "points": 500, "value": "5", "currency": "EUR"}]
                update_settings(db.session, stores[0], {"rewards": rewards})
                db.session.commit()
                started = time.perf_counter()
                for store in stores:
                    _seed(db, store.id, args.customers, now)
                seeded = time.perf_counter() - started
                timings = []
                for _ in range(args.rounds):
                    t0 = time.perf_counter()
                    report = liability_report(db.session, stores[0], now)
                    timings.append(time.perf_counter() - t0)
                    db.session.rollback()
                accounts = sum(c["accounts"] for c in report["currencies"])
                backend = make_url(url).get_backend_name()
                print(f"backend {backend}: {accounts} accounts (as many in another store), seeded in {seeded:.1f} s")
                print(f"report: best {min(timings) * 1000:.1f} ms, median {statistics.median(timings) * 1000:.1f} ms")
        finally:
            with app.app_context():
                db.engine.dispose()
            if dropped:
                engine = create_engine(
                    make_url(args.admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
                )
                with engine.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)'))
                engine.dispose()


if __name__ == "__main__":
    main()
