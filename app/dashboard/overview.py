"""The Overview page (/app): every registered section's figures and charts over the chosen period.

The period is the last 7, 30, 90 or 365 days up to today (UTC), or `from`/`to` dates (inclusive, at most
two years). The sections come from figures.SECTIONS, which the features fill; this page names none of them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import current_app, request

from app.dashboard import charts, cohort_figures, orders_figures  # noqa: F401  (they register their sections)
from app.dashboard.figures import Period, compute_sections
from app.dashboard.i18n import N_
from app.dashboard.registry import current_merchant, dashboard_page, render_page
from app.extensions import db

PRESETS = (7, 30, 90, 365)
MAX_DAYS = 731


def today() -> date:
    clock = current_app.config.get("DASHBOARD_CLOCK")  # tests only: a callable returning an aware datetime
    return (clock() if clock else datetime.now(UTC)).date()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def chosen_period() -> tuple[Period, str]:
    """The period the query asks for, and its preset key ("30", ... or "custom"); a bad value means 30 days."""
    try:
        first = date.fromisoformat(request.args.get("from", ""))
        last = date.fromisoformat(request.args.get("to", ""))
        if first <= last and (last - first).days < MAX_DAYS:
            return Period(_midnight(first), _midnight(last + timedelta(days=1))), "custom"
    except ValueError:
        pass
    days = request.args.get("days", "30")
    length = int(days) if days.isdigit() and int(days) in PRESETS else 30
    end = today() + timedelta(days=1)
    return Period(_midnight(end - timedelta(days=length)), _midnight(end)), str(length)


@dashboard_page("", title=N_("Overview"), nav=N_("Overview"), order=0)
def overview() -> str:
    period, preset = chosen_period()
    sections = compute_sections(db.session, current_merchant().store, period)
    return render_page(
        "dashboard/overview.html",
        sections=sections,
        period=period,
        preset=preset,
        presets=PRESETS,
        last_day=(period.end - timedelta(days=1)).date(),
        chart=charts.render,
        table=charts.render_table,
    )
