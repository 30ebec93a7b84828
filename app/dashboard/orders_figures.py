"""The Overview's first section, from the store's order records (app/records): who comes back, and what they bring.

Definitions (docs/dashboard.md):
- An order counts when it was placed in the period and stands: not cancelled, not deleted. Its revenue is its
  total minus what was refunded, in its own currency.
- A returning order: its customer has an earlier standing order (placed before it; same instant: lower id).
- Repeat-purchase rate: of the customers with a counted order in the period, the share with at least two
  standing orders placed before the period's end. Orders with no customer (no e-mail) count as new.
- Returning customers' share of revenue: returning orders' revenue over all counted revenue, per currency.
Read from what the records keep as orders are written (records/order_days.py), not from a scan of the period's
orders with a probe for an earlier one each (5.2 s for 365 days at 1,000,000 orders, bench/dashboard_overview.py):
- the revenue, its returning part and the chart: the daily rollup `order_days`, one row per day and currency;
- the buyers and repeat buyers: one count over the period's standing orders, from their chain columns (an
  index-only scan of a partial index): each buyer has exactly one order in the period whose previous order is
  before the period (or none), and a buyer is not a repeat buyer exactly when that order is their first ever
  and their next one is after the period (or none).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.dashboard.figures import (
    Chart,
    Figure,
    Period,
    Section,
    _,
    as_date,
    percent,
    register_section,
)
from app.money import format_money
from app.records.models import Order, OrderDay
from app.records.order_days import SCALE
from app.stores.models import Store


def _buyers(session: Session, store: Store, period: Period) -> tuple[int, int]:
    """(customers with a counted order in the period, those of them with two or more standing orders by its end)."""
    first_in_period = or_(Order.prev_placed_at.is_(None), Order.prev_placed_at < period.start)
    only_one = and_(
        Order.prev_placed_at.is_(None), or_(Order.next_placed_at.is_(None), Order.next_placed_at >= period.end)
    )
    buyers, single = session.execute(
        select(
            func.coalesce(func.sum(case((first_in_period, 1), else_=0)), 0),
            func.coalesce(func.sum(case((only_one, 1), else_=0)), 0),
        ).where(
            Order.store_id == store.id,
            Order.customer_id.is_not(None),  # the partial index's predicate (ix_orders_standing_chain)
            Order.cancelled_at.is_(None),
            Order.deleted_at.is_(None),
            Order.placed_at >= period.start,
            Order.placed_at < period.end,
        )
    ).one()
    return int(buyers), int(buyers) - int(single)


def orders_section(session: Session, store: Store, period: Period) -> Section:
    rows = session.execute(
        select(
            OrderDay.day,
            OrderDay.currency,
            OrderDay.orders,
            OrderDay.revenue_units,
            OrderDay.returning_units,
        ).where(
            OrderDay.store_id == store.id,
            OrderDay.day >= period.start.date(),
            OrderDay.day < period.end.date(),
        )
    ).all()
    customers, repeat = _buyers(session, store, period)
    totals: dict[str, list[Decimal]] = {}  # currency -> [all, returning]
    orders = 0
    for _day, currency, count, whole, back in rows:
        orders += int(count)
        pair = totals.setdefault(currency, [Decimal(0), Decimal(0)])
        pair[0] += Decimal(int(whole)) / SCALE
        pair[1] += Decimal(int(back)) / SCALE
    headline = store.currency
    if headline not in totals and totals:
        headline = max(totals, key=lambda c: totals[c][0])
    per_day_new: dict = {}
    per_day_returning: dict = {}
    for day_value, currency, _count, whole, back in rows:
        if currency == headline:
            key = as_date(day_value)
            per_day_new[key] = per_day_new.get(key, Decimal(0)) + Decimal(int(whole) - int(back)) / SCALE
            per_day_returning[key] = per_day_returning.get(key, Decimal(0)) + Decimal(int(back)) / SCALE

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


register_section("orders", orders_section, order=10)
