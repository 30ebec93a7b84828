"""UTC days for the daily rollups (records/order_days.py, loyalty/points_days.py): the day a moment falls on, and
a set of days as the [start, end) ranges an index scan reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta


def day_of(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date()


def midnight(day: date | None) -> datetime:
    assert day is not None
    return datetime.combine(day, time(0), tzinfo=UTC)


def day_ranges(days: Sequence[date]) -> list[tuple[datetime, datetime]]:
    """Sorted days as [start, end) ranges of consecutive days: one index range each, padded with empty ranges
    (start == end: no row, no index page) to a power of two. The callers OR the ranges into one statement, so each
    distinct count was a statement of its own in SQLAlchemy's compiled cache (500 per engine, up to 0.85 MB
    each at 200 ranges), and a worker settling many stores' days kept meeting new counts: its memory grew all run
    long (bench/README.md, "The workers' growth: the rollups' statement shapes"). Padded, a chunk of up to 200
    days makes at most 9 shapes."""
    runs: list[list[date]] = []
    for day in days:
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    ranges = [(midnight(a), midnight(b) + timedelta(days=1)) for a, b in runs]
    if ranges:
        empty = (ranges[0][0], ranges[0][0])
        ranges += [empty] * ((1 << (len(ranges) - 1).bit_length()) - len(ranges))
    return ranges
