"""Campaigns' test helpers (docs/campaigns.md): the win-back the tests create, the admin API's bearer token, a burst
of the queue's jobs, and a generated store history whose lapsed and consenting customers are known."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from rq import SimpleWorker

from app.extensions import db
from app.platform.queue import get_queue

COUPON = {"kind": "percentage", "value": "15", "expires_days": 30}
WIN_BACK = {"name": "Come back", "segment": "lapsed", "message": {"kind": "win_back", "coupon": COUPON}}


def admin_auth(store) -> dict[str, str]:
    from app.admin.auth import issue_admin_token

    return {"Authorization": "Bearer " + issue_admin_token(store)}


def run_queue(app) -> None:
    with app.app_context():
        queue = get_queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def generate_history(store, now, rng: random.Random, n: int) -> dict[str, set[int]]:
    """A store history: n customers, each with 1-4 orders, some long silent (lapsed), some consenting to
    marketing; which customer is which, for the checks."""
    from app.records.customers import refresh_totals
    from app.records.models import Customer, Order

    kinds: dict[str, set[int]] = {"lapsed": set(), "consenting_lapsed": set(), "recent": set()}
    for i in range(n):
        lapsed = rng.random() < 0.6
        consent = rng.random() < 0.5
        customer = Customer(store_id=store.id, platform_id=str(90000 + i), email=f"c{i}@example.com",
                            email_key=f"c{i}@example.com", first_name=f"C{i}", accepts_marketing=consent)  # fmt: skip
        db.session.add(customer)
        db.session.flush()
        last = rng.randint(400, 700) if lapsed else rng.randint(1, 30)
        for k in range(rng.randint(1, 4)):
            when = now - timedelta(days=last + k * 20)
            db.session.add(Order(store_id=store.id, platform_id=f"{i}-{k}", customer_id=customer.id, currency="USD",
                                 total_price=Decimal("40"), subtotal_price=Decimal("40"), placed_at=when,
                                 platform_updated_at=when))  # fmt: skip
        db.session.flush()
        refresh_totals(db.session, store, customer)
        (kinds["lapsed"] if lapsed else kinds["recent"]).add(customer.id)
        if lapsed and consent:
            kinds["consenting_lapsed"].add(customer.id)
    db.session.commit()
    return kinds
