"""The rollups' day ranges (platform/days.day_ranges): the days they cover, and a bounded number of statement shapes.

Each distinct number of ranges made a distinct `OR` of range conditions, so a new statement in SQLAlchemy's
compiled cache (its LRU keeps 500 per engine; one with 100-200 ranges holds about 0.4-0.85 MB): a worker
settling many stores' days met a new count now and then and grew for its whole life (bench/README.md, "The
workers' growth: the rollups' statement shapes")."""

from __future__ import annotations

from datetime import date, timedelta

from app.extensions import db
from app.loyalty import points_days
from app.platform.days import day_of, day_ranges
from app.records import order_days
from tests.helpers import add_store


def _days(runs: int) -> list[date]:
    """`runs` runs of consecutive days (1-3 days each), one free day between runs."""
    out, day = [], date(2026, 1, 1)
    for n in range(runs):
        for _ in range(1 + n % 3):
            out.append(day)
            day += timedelta(days=1)
        day += timedelta(days=1)
    return out


def test_ranges_cover_exactly_the_days():
    for runs in (1, 2, 3, 5, 8, 13, 40):
        days = _days(runs)
        covered = set()
        for start, end in day_ranges(days):
            day = day_of(start)
            while day is not None and day < day_of(end):
                covered.add(day)
                day += timedelta(days=1)
        assert covered == set(days)


def test_rollup_statements_do_not_grow_the_compiled_cache_per_range_count(ctx):
    store_id = add_store().id
    cache = db.engine._compiled_cache
    for insert_days in (order_days._insert_days, points_days._insert_days):
        insert_days(db.session, [store_id], day_ranges(_days(1)))  # the statement's first shape
        before = len(cache)
        for runs in range(2, 41):
            insert_days(db.session, [store_id], day_ranges(_days(runs)))
        assert len(cache) - before <= 6  # one per power of two up to 64, not one per count
    db.session.rollback()
