"""Time migration 0033 (store keys, issue 25) on a PostgreSQL database holding rows, and how long it locks.

    .venv/bin/python -m bench.store_keys_migration --admin-url postgresql://postgres@127.0.0.1/postgres --orders 300000

Migrates a fresh database (`ppe_bench_keys_<hex>`, or --database) to 0032, seeds one store as
bench/dashboard_overview.py does (--orders orders, a quarter as many customers, as many ledger rows, a third as many
e-mails...), then --rounds times,
alternating: the upgrade to 0033, timed by phase (its concurrent index builds, which block no writes; the swap
transaction, which holds ACCESS EXCLUSIVE locks on every table it alters; the keys' validation, which blocks no
writes), and the downgrade, one transaction doing the same kind of work (unique indexes built and keys checked)
under those locks: the baseline a plain ALTER TABLE ... ADD PRIMARY KEY migration would be. Drops the database.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import event, text

from bench.backends import app_database
from bench.dashboard_overview import SEED
from bench.loyalty_report import ROOT

BEFORE, AFTER = "0032_overview_loyalty", "0033_store_keys"


class Phases:
    """Each statement's start and end, by the phase its SQL begins with."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, float, float]] = []

    def listen(self, engine) -> None:  # noqa: ANN001
        def before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
            conn.info["started"] = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
            self.spans.append((statement.strip().split("\n")[0][:60], conn.info.pop("started"), time.perf_counter()))

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)

    def report(self, label: str, started: float, ended: float) -> str:
        builds = [e - s for sql, s, e in self.spans if sql.startswith("CREATE UNIQUE INDEX")]
        swap = [(s, e) for sql, s, e in self.spans if sql.startswith("ALTER TABLE") and "VALIDATE" not in sql]
        validates = [(s, e) for sql, s, e in self.spans if "VALIDATE CONSTRAINT" in sql]
        line = f"{label}: {ended - started:.2f} s in all"
        if builds:  # the upgrade: locked from the swap's first ALTER to its commit (the first VALIDATE's start)
            locked = (validates[0][0] if validates else swap[-1][1]) - swap[0][0]
            line += (
                f"; index builds (concurrent) {sum(builds):.2f} s; swap transaction (locked) {locked:.3f} s; "
                f"validation (concurrent) {sum(e - s for s, e in validates):.2f} s"
            )
        else:  # the downgrade: one transaction, every table locked from its first ALTER to the end
            line += f"; locked {ended - swap[0][0]:.2f} s"
        self.spans.clear()
        return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL"), required=True)
    parser.add_argument("--database", help="the database's name (default: a fresh ppe_bench_keys_<hex>)")
    args = parser.parse_args()
    name = args.database or f"ppe_bench_keys_{uuid.uuid4().hex[:8]}"
    with app_database(args.admin_url, name):
        _run(args, ROOT / "migrations")


def _run(args: argparse.Namespace, migrations) -> None:  # noqa: ANN001
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from app.extensions import db
    from app.stores.models import Store

    app = create_app()
    with app.app_context():
        upgrade(directory=str(migrations), revision=BEFORE)
        store = Store(platform="shopify", domain="bench1.myshopify.com", currency="EUR")
        db.session.add(store)
        db.session.commit()
        started = time.perf_counter()
        now = datetime.now(UTC).replace(microsecond=0)
        params = {"store": store.id, "orders": args.orders, "customers": max(args.orders // 4, 1), "now": now}
        for statement in SEED:
            db.session.execute(text(statement), params)
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        rows = db.session.execute(
            text("SELECT sum(n_live_tup) FROM pg_stat_user_tables WHERE relname <> 'alembic_version'")
        ).scalar_one()
        print(f"seeded {rows} rows ({args.orders} orders) in {time.perf_counter() - started:.0f} s")
        db.session.remove()
        phases = Phases()
        phases.listen(db.engine)
        for round_ in range(args.rounds):  # alternated: the same machine state for both
            for label, step, revision in (("upgrade", upgrade, AFTER), ("downgrade", downgrade, BEFORE)):
                phases.spans.clear()
                started = time.perf_counter()
                step(directory=str(migrations), revision=revision)
                print(f"round {round_ + 1}, {phases.report(label, started, time.perf_counter())}")
            print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
