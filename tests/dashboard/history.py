"""A store's history with known answers for the Overview: rows drawn by a seeded generator, and the figures the
page must show, computed here by plain Python over the same plan (not by the SQL under test).

Rows are inserted as the features write them (one model per table) rather than replayed through webhooks: the
Overview reads rows, and the plan needs timestamps on both sides of the period's edges.
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

from app.extensions import db
from app.loyalty.models import LoyaltyAccount, PointsLedger
from app.messaging.models import EmailSuppression, Message
from app.referrals.models import STATUSES, Referral
from app.reviews.models import Review, ReviewRequest
from tests.dashboard.history_orders import CUSTOMERS, add_orders, in_period, percent, random_time


def build(store, seed: int = 20) -> dict[str, str]:
    """Write the history for `store` (an app context is open) and return {figure key: the value it must show}:
    the orders (tests/dashboard/history_orders.py), then each programme's rows, drawn from the same generator."""
    rng = random.Random(seed)
    customers, expected = add_orders(store, rng)

    issued = redeemed = 0
    balances = [0] * CUSTOMERS
    for i in range(50):
        kind = rng.choice(["earn", "action", "tier_reward", "adjust", "redeem", "redeem_release", "expire", "reverse"])
        points = rng.randrange(5, 300) if kind != "redeem_release" else rng.randrange(1, 30)  # a hold given back
        if kind in ("redeem", "expire", "reverse") or (kind == "adjust" and rng.random() < 0.5):
            points = -points
        when, who = random_time(rng), rng.randrange(CUSTOMERS)
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
        if in_period(when) and (kind in ("earn", "action", "tier_reward") or (kind == "adjust" and points > 0)):
            issued += points
        if in_period(when) and kind in ("redeem", "redeem_release"):
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
        sent_at = random_time(extra) if extra.random() < 0.8 else None
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
        when, rating = random_time(rng), rng.randrange(1, 6)
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
        if in_period(when):
            ratings.append(rating)
    expected["reviews.collected"] = str(len(ratings))
    sent_in = [r for r in requests if r.sent_at is not None and in_period(r.sent_at)]
    expected["reviews.request_rate"] = percent(sum(r.id in answered for r in sent_in), len(sent_in))
    expected["reviews.average_rating"] = (
        str((Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        if ratings
        else "–"
    )

    by_status = dict.fromkeys(STATUSES, 0)
    revenue: dict[str, Decimal] = {}
    for i in range(25):
        when, status = random_time(rng), rng.choice(STATUSES)
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
        if in_period(when):
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
        when, status = random_time(rng), rng.choice(["sent", "sent", "failed", "queued"])
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
        sent += status == "sent" and in_period(when)
    unsubscribed = 0
    for i in range(12):
        when, reason = random_time(rng), rng.choice(["unsubscribe", "one_click", "bounce"])
        db.session.add(EmailSuppression(store_id=store.id, email_key=f"{i:064x}", reason=reason, created_at=when))
        unsubscribed += reason != "bounce" and in_period(when)
    expected["messaging.sent"] = str(sent)
    expected["messaging.unsubscribed"] = str(unsubscribed)
    expected["messaging.opened"] = "–"  # not known: no tracking pixel
    db.session.commit()
    return expected
