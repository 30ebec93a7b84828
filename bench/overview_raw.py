"""The Overview's sections as they were before their rollups: the orders section from the raw table (a scan of the
period's orders with a probe for an earlier order of the customer each) and the loyalty section from the period's
ledger rows grouped by day, with the liability from every account joined to its customer.
bench/dashboard_overview.py times them beside the page's current sections, in the same run, on the same rows. Kept
here, not in app/: nothing serves them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from app.dashboard.figures import (
    Chart,
    Figure,
    Period,
    Section,
    _,
    as_date,
    money_sum,
    money_value,
    percent,
    utc_day,
)
from app.loyalty import points_days
from app.loyalty.dashboard import section_of
from app.loyalty.models import LoyaltyAccount, PointsLedger
from app.loyalty.report import point_values
from app.loyalty.settings import get_settings
from app.money import format_money
from app.records.models import Customer, Order
from app.stores.models import Store


def _standing(order: type[Order], store_id: int) -> list:  # type: ignore[type-arg]
    return [order.store_id == store_id, order.cancelled_at.is_(None), order.deleted_at.is_(None)]


def orders_section(session: Session, store: Store, period: Period) -> Section:
    earlier = aliased(Order)
    returning = exists().where(
        *_standing(earlier, store.id),
        earlier.customer_id == Order.customer_id,
        or_(earlier.placed_at < Order.placed_at, and_(earlier.placed_at == Order.placed_at, earlier.id < Order.id)),
    )
    # The period's orders, each flagged returning or not (one index probe each), computed once (a CTE) for both
    # aggregates below.
    flagged = (
        select(
            Order.customer_id.label("customer_id"),
            utc_day(session, Order.placed_at).label("day"),
            Order.currency.label("currency"),
            case((and_(Order.customer_id.is_not(None), returning), 1), else_=0).label("back"),
            (Order.total_price - Order.refunded_amount).label("net"),
        )
        .where(*_standing(Order, store.id), Order.placed_at >= period.start, Order.placed_at < period.end)
        .cte("flagged")
    )
    revenue = select(
        literal("r").label("kind"),
        flagged.c.day,
        flagged.c.currency,
        flagged.c.back,
        func.count().label("n"),
        money_sum(session, flagged.c.net).label("amount"),
    ).group_by(flagged.c.day, flagged.c.currency, flagged.c.back)
    # A buyer has two standing orders before the period's end iff one of theirs in the period has an earlier one
    # (two in the period: the later has the earlier), so the flags answer the repeat-purchase rate too.
    buyers = (
        select(func.max(flagged.c.back).label("back"))
        .where(flagged.c.customer_id.is_not(None))
        .group_by(flagged.c.customer_id)
        .subquery()
    )
    repeat_rate = select(
        literal("c"),
        literal(None),
        literal(None),
        literal(None),
        func.count(),
        func.coalesce(func.sum(buyers.c.back), 0),
    ).select_from(buyers)
    answer = session.execute(union_all(revenue, repeat_rate)).all()
    customers, repeat = next((int(r[4]), int(r[5])) for r in answer if r[0] == "c")
    rows = [tuple(r[1:]) for r in answer if r[0] == "r"]
    totals: dict[str, list[Decimal]] = {}  # currency -> [all, returning]
    orders = 0
    headline = store.currency
    per_day_new: dict = {}
    per_day_returning: dict = {}
    for _day, currency, back, count, net in rows:
        amount = money_value(session, net)
        orders += int(count)
        pair = totals.setdefault(currency, [Decimal(0), Decimal(0)])
        pair[0] += amount
        if back:
            pair[1] += amount
    if headline not in totals and totals:
        headline = max(totals, key=lambda c: totals[c][0])
    for day_value, currency, back, _count, net in rows:
        if currency == headline:
            target = per_day_returning if back else per_day_new
            key = as_date(day_value)
            target[key] = target.get(key, Decimal(0)) + money_value(session, net)

    figures = [
        Figure("orders.count", _("Orders"), str(orders)),
        Figure("orders.customers", _("Customers who ordered"), str(customers)),
        Figure(
            "orders.repeat_rate",
            _("Repeat-purchase rate"),
            percent(repeat, customers),
            _("%(part)s of %(whole)s", part=repeat, whole=customers),
        ),
    ]
    for currency in sorted(totals):
        whole, back = totals[currency]
        figures.append(
            Figure(
                f"orders.revenue.{currency}",
                _("Revenue (%(currency)s)", currency=currency),
                format_money(whole, currency),
            )
        )
        figures.append(
            Figure(
                f"orders.returning_share.{currency}",
                _("Returning customers' share of revenue (%(currency)s)", currency=currency),
                percent(back, whole),
                _("%(part)s of %(whole)s", part=format_money(back, currency), whole=format_money(whole, currency)),
            )
        )
    labels = [d.isoformat() for d in period.buckets()]
    charts = []
    if headline in totals:
        charts.append(
            Chart(
                "orders.revenue_chart",
                _("Revenue by new and returning customers (%(currency)s)", currency=headline),
                "columns",
                labels,
                [(_("New"), period.bucketed(per_day_new)), (_("Returning"), period.bucketed(per_day_returning))],
                headline or "",
            )
        )
    return Section(
        "orders", _("Orders and repeat purchases"), figures, charts, "" if orders else _("No orders in this period.")
    )


def loyalty_section(session: Session, store: Store, period: Period) -> Section:
    """Points issued and redeemed from the period's ledger rows (an index-only scan of them), the liability as now."""
    day = utc_day(session, PointsLedger.created_at)
    rows = session.execute(
        select(day, func.sum(points_days.issued()), func.sum(points_days.redeemed()))
        .where(
            PointsLedger.store_id == store.id,
            PointsLedger.created_at >= period.start,
            PointsLedger.created_at < period.end,
        )
        .group_by(day)
    ).all()
    return section_of(session, store, period, rows, _liability(session, store))


CENT = Decimal("0.01")


def _liability(session: Session, store: Store) -> dict:
    """The outstanding points per currency as loyalty/report.py computed them: every account joined to its customer."""
    currency = func.coalesce(Customer.currency, literal(store.currency or "")).label("currency")
    stmt = (
        select(currency, func.sum(LoyaltyAccount.balance))
        .select_from(LoyaltyAccount)
        .join(Customer, Customer.id == LoyaltyAccount.customer_id)
        .where(LoyaltyAccount.store_id == store.id, Customer.store_id == store.id)
        .group_by(currency)
        .order_by(currency)
    )
    values = point_values(get_settings(store))
    rows = []
    for code, outstanding in session.execute(stmt):
        per_point = values[code]["per_point"] if code in values else None
        worth = None if per_point is None else (Decimal(outstanding) * per_point).quantize(CENT, ROUND_HALF_UP)
        rows.append({"currency": code or None, "points": {"outstanding": int(outstanding or 0)},
                     "value": {"outstanding": None if worth is None else str(worth)}})  # fmt: skip
    return {"currencies": rows}


#: The sections as they were, by key; the others are timed as the page computes them on both sides.
BEFORE = {"orders": orders_section, "loyalty": loyalty_section}
