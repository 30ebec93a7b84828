"""The rollups' statements in SQLAlchemy's compiled cache: distinct shapes and their memory over 1..N day ranges.

    .venv/bin/python -m bench.rollup_statements --ranges 200

records/order_days.py and loyalty/points_days.py OR one condition per range of days (platform/days.day_ranges)
into their INSERT ... SELECT; the compiled cache (500 statements per engine) keeps one entry per distinct shape.
Here each rollup's statement for 1..`--ranges` ranges (days two apart, 3 stores) is compiled for PostgreSQL and
kept by its cache key, as the engine's cache would keep it, and tracemalloc counts what the kept entries hold.
No database: the statements are built and compiled only.
"""

from __future__ import annotations

import argparse
import gc
import os
import tracemalloc
from datetime import date, timedelta
from typing import Any


class _Capture:
    """What _insert_days needs of a session: the dialect's name, and execute (kept, not run)."""

    def __init__(self) -> None:
        self.statements: list[Any] = []

    def get_bind(self) -> Any:
        return self

    @property
    def dialect(self) -> Any:
        return self

    name = "postgresql"

    def execute(self, statement: Any) -> None:
        self.statements.append(statement)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranges", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "sqlite://")
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("APP_ENV", "development")
    from sqlalchemy.dialects import postgresql

    from app import create_app
    from app.loyalty import points_days
    from app.platform.days import day_ranges
    from app.records import order_days

    app = create_app()
    dialect = postgresql.psycopg.dialect()  # type: ignore[attr-defined]
    for name, insert_days in (("order_days", order_days._insert_days), ("points_days", points_days._insert_days)):
        kept: dict[Any, Any] = {}
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        for n in range(1, args.ranges + 1):
            capture = _Capture()
            days = [date(2020, 1, 1) + timedelta(days=2 * i) for i in range(n)]
            with app.app_context():
                insert_days(capture, [1, 2, 3], day_ranges(days))  # type: ignore[arg-type]
            statement = capture.statements[-1]
            key = statement._generate_cache_key()
            if key.key not in kept:
                kept[key.key] = (key, statement.compile(dialect=dialect))
        gc.collect()
        grown = sum(stat.size_diff for stat in tracemalloc.take_snapshot().compare_to(before, "filename"))
        tracemalloc.stop()
        print(f"{name}: 1..{args.ranges} ranges, {len(kept)} distinct statements, {grown / 1e6:.1f} MB kept")


if __name__ == "__main__":
    main()
