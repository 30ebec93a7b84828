"""Loyalty's section of the dashboard's Overview: points issued and redeemed in the period, and the liability now.

- Issued: the points of the period's ledger rows that give points (earn, action, tier_reward, and positive
  manual adjustments), by the row's created_at.
- Redeemed: the points taken by the period's redemptions, net of holds given back in the period
  (-(redeem + redeem_release)).
- Liability: what is outstanding now and its money value per currency, from loyalty/report.py (the cached
  sums, as of the scheduler's last tick), whatever the period.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.dashboard.figures import Chart, Figure, Period, Section, _, count_by_day, register_section, utc_day
from app.loyalty.models import PointsLedger
from app.loyalty.report import liability_report
from app.stores.models import Store

GIVING = ("earn", "action", "tier_reward")


def loyalty_section(session: Session, store: Store, period: Period) -> Section:
    issued = or_(PointsLedger.kind.in_(GIVING), and_(PointsLedger.kind == "adjust", PointsLedger.points > 0))
    redeemed = PointsLedger.kind.in_(("redeem", "redeem_release"))
    day = utc_day(session, PointsLedger.created_at)
    rows = session.execute(
        select(
            day,
            func.sum(case((issued, PointsLedger.points), else_=0)),
            func.sum(case((redeemed, -PointsLedger.points), else_=0)),
        )
        .where(
            PointsLedger.store_id == store.id,
            PointsLedger.created_at >= period.start,
            PointsLedger.created_at < period.end,
        )
        .group_by(day)
    ).all()
    issued_by_day = count_by_day((d, i) for d, i, _r in rows)
    redeemed_by_day = count_by_day((d, r) for d, _i, r in rows)
    total_issued = int(sum(issued_by_day.values(), Decimal(0)))
    total_redeemed = int(sum(redeemed_by_day.values(), Decimal(0)))
    figures = [
        Figure("loyalty.points_issued", _("Points issued"), str(total_issued)),
        Figure("loyalty.points_redeemed", _("Points redeemed"), str(total_redeemed)),
    ]
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
