"""Loyalty's section of the dashboard's Overview: points issued and redeemed in the period, and the liability now.

- Issued: the points of the period's ledger rows that give points (earn, action, tier_reward, and positive
  manual adjustments), by the row's created_at.
- Redeemed: the points taken by the period's redemptions, net of holds given back in the period
  (-(redeem + redeem_release)).
Both are read from the daily rollup the ledger's writes keep (loyalty/points_days.py: one row per day, not the
period's ledger rows; the period is whole UTC days, so the sum is exact).
- Liability: what is outstanding now and its money value per currency, from loyalty/report.py (the cached
  sums, as of the scheduler's last tick), whatever the period.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.dashboard.figures import Chart, Figure, Period, Section, _, count_by_day, register_section
from app.loyalty import points_days
from app.loyalty.models import PointsDay
from app.loyalty.report import liability_report
from app.stores.models import Store


def loyalty_section(session: Session, store: Store, period: Period) -> Section:
    points_days.settle(session)  # rows this transaction wrote itself (nothing, on the page's own request)
    rows = session.execute(
        select(PointsDay.day, PointsDay.issued, PointsDay.redeemed).where(
            PointsDay.store_id == store.id,
            PointsDay.day >= period.start.date(),
            PointsDay.day < period.end.date(),
        )
    ).all()
    return section_of(session, store, period, rows)


def section_of(
    session: Session, store: Store, period: Period, rows: Sequence[Any], report: dict[str, Any] | None = None
) -> Section:
    """The section from (day, issued, redeemed) rows and the liability (bench/overview_raw.py gives it both as they
    were computed before: from the ledger rows, and every account joined to its customer)."""
    issued_by_day = count_by_day((d, i) for d, i, _r in rows)
    redeemed_by_day = count_by_day((d, r) for d, _i, r in rows)
    total_issued = int(sum(issued_by_day.values(), Decimal(0)))
    total_redeemed = int(sum(redeemed_by_day.values(), Decimal(0)))
    figures = [
        Figure("loyalty.points_issued", _("Points issued"), str(total_issued)),
        Figure("loyalty.points_redeemed", _("Points redeemed"), str(total_redeemed)),
    ]
    if report is None:
        report = liability_report(session, store, datetime.now(UTC))
    for row in report["currencies"]:
        currency = row["currency"] or "-"
        value = row["value"]["outstanding"]
        figures.append(
            Figure(
                f"loyalty.liability.{currency}",
                _("Points outstanding (%(currency)s)", currency=currency),
                str(row["points"]["outstanding"]),
                _("worth %(value)s %(currency)s", value=value, currency=currency)
                if value is not None
                else _("no fixed-amount reward values them"),
            )
        )
    chart = Chart(
        "loyalty.points_chart",
        _("Points issued and redeemed"),
        "columns",
        [d.isoformat() for d in period.buckets()],
        [(_("Issued"), period.bucketed(issued_by_day)), (_("Redeemed"), period.bucketed(redeemed_by_day))],
        _("points"),
    )
    empty = "" if rows or report["currencies"] else _("No points moved in this period.")
    return Section("loyalty", _("Loyalty points"), figures, [chart] if rows else [], empty)


register_section("loyalty", loyalty_section, order=20)
