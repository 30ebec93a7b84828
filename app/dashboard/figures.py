"""The Overview's figures: a registry every feature adds its section to, and the period they are computed over.

    from app.dashboard.figures import Figure, Section, register_section

    def loyalty_section(session, store, period) -> Section: ...
    register_section("loyalty", loyalty_section, order=20)

A section is computed by SQL over the store's rows (each query filtered by `store_id`), in Decimal for money,
per currency (a store's orders may be in several). Figures are strings the page shows as they are, so what
the page says is exactly what was computed. Helpers here keep the SQL the same on PostgreSQL and SQLite:
`utc_day` (the UTC calendar day of a timestamp, for the charts' buckets) and `money_sum` (exact on SQLite,
whose NUMERIC columns hold binary floats: summed as integers of 1/10000, the Money column's scale).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, Numeric, cast, func, literal, text, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.dashboard.i18n import gettext as _  # noqa: F401  (the features' sections translate their labels with it)
from app.stores.models import Store

MONEY_SCALE = 10000  # platform/types.Money is Numeric(18, 4)
DAILY_UP_TO = 62  # longer periods are charted by week


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, whole days."""

    start: datetime
    end: datetime

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def buckets(self) -> list[date]:
        """The first day of each chart bucket: every day, or every 7 days from the start for long periods."""
        step = 1 if self.days <= DAILY_UP_TO else 7
        first = self.start.date()
        return [first + timedelta(days=n) for n in range(0, self.days, step)]

    def bucketed(self, per_day: dict[date, Decimal]) -> list[Decimal]:
        """Per-day values summed into the buckets (exact: sums of Decimals)."""
        starts = self.buckets()
        step = 1 if self.days <= DAILY_UP_TO else 7
        values = [Decimal(0)] * len(starts)
        first = self.start.date()
        for day, value in per_day.items():
            index = (day - first).days // step
            if 0 <= index < len(values):
                values[index] += value
        return values


@dataclass(frozen=True)
class Figure:
    key: str  # stable: the page's data-figure attribute, read by tests and scripts
    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    kind: str  # "columns" (one value per bucket of the period) or "bars" (one per category)
    labels: list[str]
    series: list[tuple[str, list[Decimal]]]
    unit: str = ""


@dataclass(frozen=True)
class Table:
    """A grid of values read as a table (by a screen reader too), shaded like a heatmap by `shade` (0..1)."""

    key: str
    title: str
    corner: str  # the header of the row headers' column
    columns: list[str]
    rows: list[tuple[str, str, list[tuple[str, float]]]]  # (row key, row header, [(cell text, shade)])
    note: str = ""


@dataclass
class Section:
    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    empty: str = ""  # shown instead when the period has nothing
    tables: list[Table] = field(default_factory=list)


Compute = Callable[[Session, Store, Period], Section]


@dataclass(frozen=True)
class SectionSpec:
    key: str
    compute: Compute
    order: int


SECTIONS: dict[str, SectionSpec] = {}


def register_section(key: str, compute: Compute, *, order: int = 100) -> None:
    SECTIONS[key] = SectionSpec(key=key, compute=compute, order=order)


def compute_sections(session: Session, store: Store, period: Period) -> list[Section]:
    if session.get_bind().dialect.name == "postgresql":
        # The correlated subplans (an earlier order of the customer) lift the cost estimate past jit_above_cost,
        # and compiling them took 2 s for 0.2 s of work at 1,000,000 orders (bench/dashboard_overview.py
        # --explain). For this transaction only: https://www.postgresql.org/docs/current/jit-decision.html
        session.execute(text("SET LOCAL jit = off"))
    return [spec.compute(session, store, period) for spec in sorted(SECTIONS.values(), key=lambda s: s.order)]


def utc_day(session: Session, column: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite keeps naive UTC text (platform/types.UTCDateTime)


def utc_month(session: Session, column: Any) -> ColumnElement[Any]:
    """The UTC calendar month of a timestamp as "YYYY-MM" text, on both databases."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def money_sum(session: Session, expression: Any) -> ColumnElement[Any]:
    """SUM of a money expression, exact on both databases; read it back with `money_value`."""
    if session.get_bind().dialect.name == "sqlite":
        scaled = type_coerce(expression, Numeric()) * literal(MONEY_SCALE, Integer)
        return func.sum(cast(func.round(scaled), BigInteger))
    return func.sum(expression)


def money_value(session: Session, value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    if session.get_bind().dialect.name == "sqlite":
        return Decimal(int(value)) / MONEY_SCALE
    return Decimal(str(value))


def percent(part: Decimal | int, whole: Decimal | int) -> str:
    """ "33.33 %" rounded half-up, or "–" when there is no whole."""
    if not whole:
        return "–"
    value = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value} %"


def count_by_day(rows: Iterable[Any]) -> dict[date, Decimal]:
    """(day, value) rows into a per-day dict (values summed when a day repeats)."""
    out: dict[date, Decimal] = {}
    for day, value in rows:
        key = as_date(day)
        out[key] = out.get(key, Decimal(0)) + Decimal(value or 0)
    return out


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
