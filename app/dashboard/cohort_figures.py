"""The Overview's cohort retention, from the store's order records: of the customers who first ordered in a month,
the share who ordered again 1, 2, ... months later.

Definitions (docs/dashboard.md):
- A customer's cohort is the UTC month of their first order: `customers.first_order_at`, which the records keep
  on every write of the customer's orders, in the single and the batch path alike (records/customers.py
  apply_totals: the first order placed and not deleted; a cancelled order was placed, so it counts, as in the
  customer's order count). Customers without an e-mail or account (guests with no customer row) have no cohort.
- Cohorts are the months of the period (those whose first order falls in the period); month k of a cohort counts
  its customers with an order (placed, not deleted) in the k-th calendar month after, up to the period's last
  month. Month 0 is the cohort itself (100 %). At most MAX_MONTHS columns.
One statement: the cohorts' customers joined to the period's orders (their orders are all in the period: none is
before their first), counted distinct per (cohort month, order month).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.orm import Session

from app.dashboard.figures import Period, Section, Table, _, percent, register_section, utc_month
from app.records.models import Customer, Order
from app.stores.models import Store

MAX_MONTHS = 12


def _months(first: str, last: str) -> list[str]:
    """Every "YYYY-MM" from first to last, inclusive."""
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def cohort_section(session: Session, store: Store, period: Period) -> Section:
    cohort = utc_month(session, Customer.first_order_at).label("cohort")
    month = utc_month(session, Order.placed_at).label("month")
    rows = session.execute(
        select(cohort, month, func.count(distinct(Customer.id)))
        .select_from(Customer)
        .join(Order, and_(Order.store_id == store.id, Order.customer_id == Customer.id))
        .where(
            Customer.store_id == store.id,
            Customer.first_order_at >= period.start,
            Customer.first_order_at < period.end,
            Order.deleted_at.is_(None),
            Order.placed_at >= period.start,
            Order.placed_at < period.end,
        )
        .group_by(cohort, month)
    ).all()
    counts = {(str(c), str(m)): int(n) for c, m, n in rows}
    months = _months(period.start.strftime("%Y-%m"), (period.end - timedelta(days=1)).strftime("%Y-%m"))
    index = {m: i for i, m in enumerate(months)}
    columns = [_("Month %(n)s", n=k) for k in range(min(len(months), MAX_MONTHS))]
    table_rows = []
    for first in months:
        size = counts.get((first, first), 0)
        if not size:
            continue
        cells = []
        for k in range(len(columns)):
            position = index[first] + k
            if position >= len(months):
                cells.append(("", 0.0))  # that month has not come within the period
                continue
            kept = counts.get((first, months[position]), 0)
            cells.append((percent(kept, size), kept / size))
        label = _("%(month)s (%(count)s customers)", month=first, count=size)
        table_rows.append((first, label, cells))
    table = Table(
        "cohorts.retention",
        _("Customers who ordered again, by month of first order"),
        _("First order"),
        columns,
        table_rows,
        _("Month 0 is the month of the first order; month 1 the calendar month after, and so on."),
    )
    return Section(
        "cohorts",
        _("Cohort retention"),
        tables=[table] if table_rows else [],
        empty="" if table_rows else _("No first orders in this period."),
    )


register_section("cohorts", cohort_section, order=15)
