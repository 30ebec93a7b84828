"""A store's history with known answers for the Overview: rows drawn by a seeded generator, and the figures the
page must show, computed here by plain Python over the same plan (not by the SQL under test).

Rows are inserted as the features write them (one model per table) rather than replayed through webhooks: the
Overview reads rows, and the plan needs timestamps on both sides of the period's edges.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from app.extensions import db
from app.loyalty.models import LoyaltyAccount, PointsLedger
from app.messaging.models import EmailSuppression, Message
from app.records import order_days
from app.records.customers import refresh_totals
from app.records.models import Customer, Order
from app.referrals.models import STATUSES, Referral
from app.reviews.models import Review, ReviewRequest

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


def _when(rng: random.Random) -> datetime:
    seconds = int((SPAN[1] - SPAN[0]).total_seconds())
    return SPAN[0] + timedelta(seconds=rng.randrange(seconds))


def _in(when: datetime) -> bool:
    return START <= when < END


def _pct(part: Decimal | int, whole: Decimal | int) -> str:
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
            out[name] = _pct(len(kept), len(members))
    return out


def build(store, seed: int = 20) -> dict[str, str]:
    """Write the history for `store` (an app context is open) and return {figure key: the value it must show}."""
    rng = random.Random(seed)
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
            placed_at=_when(rng),
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
    counted = [p for p in plan if p.standing and _in(p.placed_at)]
    expected["orders.count"] = str(len(counted))
    buyers = {p.customer for p in counted if p.customer is not None}
    repeat = {c for c in buyers if sum(1 for p in plan if p.customer == c and p.standing and p.placed_at < END) >= 2}
    expected["orders.customers"] = str(len(buyers))
    expected["orders.repeat_rate"] = _pct(len(repeat), len(buyers))

    def returning(o: PlannedOrder) -> bool:
        return o.customer is not None and any(
            p.customer == o.customer and p.standing and (p.placed_at, p.index) < (o.placed_at, o.index) for p in plan
        )

    for currency in {p.currency for p in counted}:
        mine = [p for p in counted if p.currency == currency]
        whole = sum((p.total - p.refunded for p in mine), Decimal(0))
        back = sum((p.total - p.refunded for p in mine if returning(p)), Decimal(0))
        expected[f"orders.revenue.{currency}"] = str(whole.quantize(Decimal("0.01")))
        expected[f"orders.returning_share.{currency}"] = _pct(back, whole)

    issued = redeemed = 0
    balances = [0] * CUSTOMERS
    for i in range(50):
        kind = rng.choice(["earn", "action", "tier_reward", "adjust", "redeem", "redeem_release", "expire", "reverse"])
        points = rng.randrange(5, 300) if kind != "redeem_release" else rng.randrange(1, 30)  # a hold given back
        if kind in ("redeem", "expire", "reverse") or (kind == "adjust" and rng.random() < 0.5):
            points = -points
        when, who = _when(rng), rng.randrange(CUSTOMERS)
        db.session.add(
            PointsLedger(
                store_id=store.id,
                customer_id=customers[who].id,
                source_key=f"plan:{i}",
                kind=kind,
                points=points,
                created_at=when,
            )
        )
        balances[who] += points
        if _in(when) and (kind in ("earn", "action", "tier_reward") or (kind == "adjust" and points > 0)):
            issued += points
        if _in(when) and kind in ("redeem", "redeem_release"):
            redeemed -= points
    for who, balance in enumerate(balances):
        db.session.add(
            LoyaltyAccount(
                store_id=store.id, customer_id=customers[who].id, balance=balance, pending=0, spendable=balance
            )
        )
    expected["loyalty.points_issued"] = str(issued)
    expected["loyalty.points_redeemed"] = str(redeemed)
    liability: dict[str, int] = {}  # in each customer's headline currency (records/customers.apply_totals)
    for who, balance in enumerate(balances):
        currency = customers[who].currency or store.currency
        liability[currency] = liability.get(currency, 0) + balance
    for currency, points in liability.items():
        expected[f"loyalty.liability.{currency}"] = str(points)

    # Review requests (a separate generator: the draws above stay as they were), sent on both sides of the
    # period or not yet; some reviews below answer one of them.
    extra = random.Random(seed + 1000)
    requests = []
    for i in range(24):
        sent_at = _when(extra) if extra.random() < 0.8 else None
        request = ReviewRequest(
            store_id=store.id,
            order_platform_id=str(9000 + i),
            status="sent" if sent_at else "scheduled",
            sent_at=sent_at,
        )
        requests.append(request)
    db.session.add_all(requests)
    db.session.flush()
    answered: set[int] = set()
    ratings = []
    for i in range(30):
        when, rating = _when(rng), rng.randrange(1, 6)
        request = requests[extra.randrange(len(requests))] if extra.random() < 0.6 else None
        if request is not None:
            answered.add(request.id)
        db.session.add(
            Review(
                request_id=request.id if request is not None else None,
                store_id=store.id,
                product_id=str(rng.randrange(3)),
                order_platform_id=str(5000 + i),
                rating=rating,
                status=rng.choice(["published", "held", "rejected"]),
                created_at=when,
            )
        )
        if _in(when):
            ratings.append(rating)
    expected["reviews.collected"] = str(len(ratings))
    sent_in = [r for r in requests if r.sent_at is not None and _in(r.sent_at)]
    expected["reviews.request_rate"] = _pct(sum(r.id in answered for r in sent_in), len(sent_in))
    expected["reviews.average_rating"] = (
        str((Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        if ratings
        else "–"
    )

    by_status = dict.fromkeys(STATUSES, 0)
    revenue: dict[str, Decimal] = {}
    for i in range(25):
        when, status = _when(rng), rng.choice(STATUSES)
        currency, total = rng.choice(["EUR", "EUR", "USD"]), Decimal(rng.randrange(1000, 9000)) / 100
        db.session.add(
            Referral(
                store_id=store.id,
                referrer_customer_id=customers[rng.randrange(CUSTOMERS)].id,
                order_platform_id=str(7000 + i),
                via="discount_code",
                status=status,
                currency=currency,
                order_total=total,
                created_at=when,
            )
        )
        if _in(when):
            by_status[status] += 1
            if status in ("pending", "qualified", "rewarded"):
                revenue[currency] = revenue.get(currency, Decimal(0)) + total
    expected["referrals.count"] = str(sum(by_status.values()))
    for status, count in by_status.items():
        expected[f"referrals.status.{status}"] = str(count)
    for currency, total in revenue.items():
        expected[f"referrals.revenue.{currency}"] = str(total.quantize(Decimal("0.01")))

    sent = 0
    for i in range(40):
        when, status = _when(rng), rng.choice(["sent", "sent", "failed", "queued"])
        db.session.add(
            Message(
                store_id=store.id,
                template="review_request",
                locale="en",
                dedupe_key=f"plan:{i}",
                status=status,
                sent_at=when if status == "sent" else None,
                to_address=f"x{i}@example.com",
            )
        )
        sent += status == "sent" and _in(when)
    unsubscribed = 0
    for i in range(12):
        when, reason = _when(rng), rng.choice(["unsubscribe", "one_click", "bounce"])
        db.session.add(EmailSuppression(store_id=store.id, email_key=f"{i:064x}", reason=reason, created_at=when))
        unsubscribed += reason != "bounce" and _in(when)
    expected["messaging.sent"] = str(sent)
    expected["messaging.unsubscribed"] = str(unsubscribed)
    expected["messaging.opened"] = "–"  # not known: no tracking pixel
    db.session.commit()
    return expected
