"""The orders half of the Overview's known-answer history (tests/dashboard/history.py): the period, the customers
and a seeded plan of orders, their rows, and the order and cohort figures the page must show, computed by plain
Python over the plan (not by the SQL under test).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from app.extensions import db
from app.records import order_days
from app.records.customers import refresh_totals
from app.records.models import Customer, Order

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)  # exclusive: the period is 2026-03-01 .. 2026-03-31
CUSTOMERS = 30
SPAN = (datetime(2026, 1, 20, tzinfo=UTC), datetime(2026, 4, 12, tzinfo=UTC))  # rows fall on both sides


@dataclass
class PlannedOrder:
    index: int
    customer: int | None
    placed_at: datetime
    currency: str
    total: Decimal
    refunded: Decimal
    cancelled: bool
    deleted: bool

    @property
    def standing(self) -> bool:
        return not self.cancelled and not self.deleted


def random_time(rng: random.Random) -> datetime:
    """A moment drawn in SPAN, on either side of the period."""
    seconds = int((SPAN[1] - SPAN[0]).total_seconds())
    return SPAN[0] + timedelta(seconds=rng.randrange(seconds))


def in_period(when: datetime) -> bool:
    """Inside [START, END), the period the figures are asked for."""
    return START <= when < END


def percent(part: Decimal | int, whole: Decimal | int) -> str:
    """A share as the page shows it (two decimals, half up), or its dash when there is no whole."""
    if not whole:
        return "–"
    return f"{(Decimal(part) * 100 / Decimal(whole)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)} %"


#: store id -> its plan of orders, for the expectations that depend on the period asked (cohort_cells)
PLANS: dict[int, list[PlannedOrder]] = {}


def _month(when: datetime) -> str:
    return when.strftime("%Y-%m")


def _months(start: datetime, end: datetime) -> list[str]:
    out: list[str] = []
    day = start
    while day < end:
        if _month(day) not in out:
            out.append(_month(day))
        day += timedelta(days=1)
    return out


def cohort_cells(store, start: datetime, end: datetime) -> dict[str, str]:
    """{data-cell: text} of the cohort table for the period [start, end), by plain Python over the plan: a
    customer's cohort is the month of their first order placed and not deleted (cancelled ones count), month k
    the share of the cohort with such an order in the k-th month after, inside the period."""
    placed = [p for p in PLANS[store.id] if not p.deleted and p.customer is not None]
    months = _months(start, end)
    cohorts: dict[str, set[int]] = {}
    for who in {p.customer for p in placed}:
        first = min(p.placed_at for p in placed if p.customer == who)
        if start <= first < end:
            cohorts.setdefault(_month(first), set()).add(who)  # type: ignore[arg-type]
    out: dict[str, str] = {}
    for cohort, members in cohorts.items():
        for k in range(min(len(months), 12)):
            position = months.index(cohort) + k
            name = f"cohorts.retention:{cohort}:{k}"
            if position >= len(months):
                out[name] = ""
                continue
            kept = {
                p.customer
                for p in placed
                if p.customer in members and start <= p.placed_at < end and _month(p.placed_at) == months[position]
            }
            out[name] = percent(len(kept), len(members))
    return out


def add_orders(store, rng: random.Random) -> tuple[list[Customer], dict[str, str]]:
    """Write the customers and the planned orders for `store`; return the customers and the order figures."""
    customers = []
    for n in range(CUSTOMERS):
        row = Customer(
            store_id=store.id, platform_id=str(100 + n), email=f"c{n}@example.com", email_key=f"c{n}@example.com"
        )
        row.currency = "EUR"
        customers.append(row)
    db.session.add_all(customers)
    db.session.flush()

    plan = [
        PlannedOrder(
            index=i,
            customer=rng.choice([None, *range(CUSTOMERS - 1)]),
            placed_at=random_time(rng),
            currency=rng.choice(["EUR", "EUR", "EUR", "USD"]),
            total=Decimal(rng.randrange(500, 20000)) / 100,
            refunded=Decimal(rng.choice([0, 0, 0, rng.randrange(100, 400)])) / 100,
            cancelled=rng.random() < 0.1,
            deleted=rng.random() < 0.05,
        )
        for i in range(60)
    ]
    # Two orders of one customer at the same instant, in the period: only the second (higher id) is returning.
    for p in plan[:2]:
        p.customer, p.placed_at, p.currency, p.cancelled, p.deleted = (
            CUSTOMERS - 1,
            START + timedelta(days=3),
            "EUR",
            False,
            False,
        )
    for p in plan:
        db.session.add(
            Order(
                store_id=store.id,
                platform_id=str(1000 + p.index),
                customer_id=customers[p.customer].id if p.customer is not None else None,
                currency=p.currency,
                total_price=p.total,
                subtotal_price=p.total,
                refunded_amount=p.refunded,
                placed_at=p.placed_at,
                platform_updated_at=p.placed_at,
                cancelled_at=p.placed_at if p.cancelled else None,
                deleted_at=p.placed_at if p.deleted else None,
            )
        )
        db.session.flush()  # ids in plan order
    PLANS[store.id] = plan
    for row in customers:  # what the records keep on every order write (first_order_at: the cohorts)
        refresh_totals(db.session, store, row)
    order_days.rebuild(db.session, store.id)  # the chains and daily rollup the records keep as orders are written

    expected: dict[str, str] = {}
    counted = [p for p in plan if p.standing and in_period(p.placed_at)]
    expected["orders.count"] = str(len(counted))
    buyers = {p.customer for p in counted if p.customer is not None}
    repeat = {c for c in buyers if sum(1 for p in plan if p.customer == c and p.standing and p.placed_at < END) >= 2}
    expected["orders.customers"] = str(len(buyers))
    expected["orders.repeat_rate"] = percent(len(repeat), len(buyers))

    def returning(o: PlannedOrder) -> bool:
        return o.customer is not None and any(
            p.customer == o.customer and p.standing and (p.placed_at, p.index) < (o.placed_at, o.index) for p in plan
        )

    for currency in {p.currency for p in counted}:
        mine = [p for p in counted if p.currency == currency]
        whole = sum((p.total - p.refunded for p in mine), Decimal(0))
        back = sum((p.total - p.refunded for p in mine if returning(p)), Decimal(0))
        expected[f"orders.revenue.{currency}"] = str(whole.quantize(Decimal("0.01")))
        expected[f"orders.returning_share.{currency}"] = percent(back, whole)
    return customers, expected
