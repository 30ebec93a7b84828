"""Random interleavings of one customer's order history against an independent reference model.

Checked after every step: balance == sum of rows == cached account == the reference; no source key
twice; spendable below zero only after a reversal of points that had been spent.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.loyalty.api import InsufficientPoints, balance, check_invariants, hold_points, release_hold
from tests.helpers import add_store, reset_state
from tests.loyalty.conftest import (
    T0,
    account,
    apply,
    customer,
    deleted_event,
    delivered_event,
    fulfil_event,
    order_event,
    refund_event,
    rows,
)

TOTALS = {"1": Decimal("99.99"), "2": Decimal("12.34")}
NOW = T0 + timedelta(days=30)  # delivered orders (at T0 + 1 day) are past their 14-day window

ORDER_OPS = ("snapshot", "pay", "cancel", "uncancel", "delete", "restore", "refund", "deliver")
OPS = (*ORDER_OPS, "refund", "hold", "hold", "release", "duplicate")  # refunds and holds twice as often
steps = st.lists(
    st.tuples(st.sampled_from(OPS), st.sampled_from(sorted(TOTALS)), st.integers(1, 100)), min_size=4, max_size=30
)


@dataclass
class RefOrder:
    exists: bool = False
    paid: bool = False
    cancelled: bool = False
    deleted: bool = False
    delivered: bool = False
    earned: int | None = None
    total: Decimal = Decimal("0")
    refunds: list[Decimal] = field(default_factory=list)

    def net(self) -> int:
        if self.earned is None or self.cancelled or self.deleted:
            return 0
        refunded = sum(self.refunds, Decimal("0"))
        back = (Decimal(self.earned) * refunded / self.total).to_integral_value(rounding=ROUND_FLOOR)
        return self.earned - min(self.earned, int(back))


class Reference:
    def __init__(self) -> None:
        self.orders = {pid: RefOrder(total=total) for pid, total in TOTALS.items()}
        self.holds: dict[str, int] = {}
        self.released: set[str] = set()

    def settle(self, pid: str) -> None:
        o = self.orders[pid]
        if o.earned is None and o.exists and o.paid and not o.cancelled and not o.deleted:
            o.earned = int(TOTALS[pid].to_integral_value(rounding=ROUND_FLOOR))

    def outstanding(self) -> int:
        return sum(p for key, p in self.holds.items() if key not in self.released)

    def total(self) -> int:
        return sum(o.net() for o in self.orders.values()) - self.outstanding()

    def spendable(self) -> int:
        return sum(o.net() for o in self.orders.values() if o.delivered) - self.outstanding()


def _event_for(ref: Reference, op: str, pid: str, n: int, version: int):
    o = ref.orders[pid]
    if op in ("snapshot", "pay", "cancel", "uncancel", "restore"):
        o.paid |= op == "pay"
        o.cancelled = (o.cancelled or op == "cancel") and op != "uncancel"
        o.deleted = o.deleted and op != "restore"
        o.exists = True
        total = str(TOTALS[pid])
        return [
            order_event(pid, total=total, paid=o.paid, cancelled=o.cancelled, version=version, restored=op == "restore")
        ]
    if op == "delete":
        o.deleted = True
        return [deleted_event(pid)]
    if op == "deliver":
        o.delivered = True
        return [fulfil_event(pid, T0), delivered_event(pid, T0 + timedelta(days=1))]
    remaining = TOTALS[pid] - sum(o.refunds, Decimal("0"))
    amount = min(remaining, (TOTALS[pid] * n / 100).quantize(Decimal("0.01")))
    if amount <= 0:
        return []
    o.refunds.append(amount)
    return [refund_event(pid, f"r{pid}-{len(o.refunds)}", str(amount))]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
@example([("pay", "1", 1), ("deliver", "1", 1), ("hold", "", 90), ("cancel", "1", 1), ("uncancel", "1", 1)])
@example([("pay", "1", 1), ("refund", "1", 30), ("refund", "1", 20), ("refund", "1", 50)])
@example([("refund", "1", 30), ("delete", "1", 1), ("pay", "1", 1), ("restore", "1", 1), ("duplicate", "", 0)])
def test_ledger_matches_reference_under_any_interleaving(app, ctx, plan):
    db.session.remove()  # end the previous example's transaction first: TRUNCATE waits for its locks
    reset_state(app)
    store = add_store("shopify")
    ref = Reference()
    last: list = []
    reversed_after_spend = False
    for version, (op, pid, n) in enumerate(plan, start=1):
        before = ref.spendable()
        if op == "duplicate":
            apply(store, *last)
        elif op == "hold":
            who = customer()
            key = f"redeem:{version}"
            try:
                hold_points(db.session, store, who, n, key, {"reward": "test"}, now=NOW) if who else None
            except InsufficientPoints:
                assert ref.spendable() < n
            else:
                if who is not None:
                    assert ref.spendable() >= n
                    ref.holds[key] = n
            db.session.commit()
        elif op == "release":
            keys = sorted(ref.holds)
            if keys:
                key = keys[n % len(keys)]
                release_hold(db.session, store, key, "unused", now=NOW)
                ref.released.add(key)
                db.session.commit()
        else:
            last = _event_for(ref, op, pid, n, version)
            apply(store, *last)
            ref.settle(pid)
        if ref.outstanding() and ref.spendable() < before and op not in ("hold",):
            reversed_after_spend = True
        ledger = rows(store)
        assert sum(r.points for r in ledger) == ref.total()
        assert max(Counter(r.source_key for r in ledger).values(), default=1) == 1
        who = customer()
        if who is None:
            assert ledger == []
            continue
        got = balance(db.session, store, who, NOW)
        assert (got.total, got.spendable) == (ref.total(), ref.spendable())
        cached = account(store, who.id)
        assert cached is None or cached.balance == got.total
        assert got.spendable >= 0 or reversed_after_spend
    assert check_invariants(db.session, store) == []
