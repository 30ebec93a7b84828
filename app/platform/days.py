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
    """Sorted days as [start, end) ranges of consecutive days: one index range each."""
    runs: list[list[date]] = []
    for day in days:
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(midnight(a), midnight(b) + timedelta(days=1)) for a, b in runs]
