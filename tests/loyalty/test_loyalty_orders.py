"""Points from orders: earn once, reverse by the recorded rule, converge in any delivery order."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.loyalty.api import balance, check_invariants
from app.loyalty.settings import update_settings
from app.platform.types import utcnow
from tests.helpers import add_store
from tests.loyalty.conftest import (
    T0,
    account,
    ann,
    apply,
    customer,
    customer_event,
    deleted_event,
    delivered_event,
    fulfil_event,
    order_event,
    refund_event,
    rows,
)


def _sum(store) -> int:
    return sum(r.points for r in rows(store))


def test_paid_order_earns_once_and_duplicates_do_nothing(app, ctx):
    store = add_store("shopify")
    apply(store, order_event("1", total="80.50"), order_event("1", total="80.50"), order_event("1", version=5))
    earn = {r.source_key: r for r in rows(store)}["order:1:earn"]
    assert (earn.points, earn.kind, len(rows(store))) == (80, "earn", 1)
    assert earn.rule["rate"] == "1" and earn.rule["basis"] == "80.5" and earn.rule["rounding"] == "floor"
    assert check_invariants(db.session, store) == []


def test_unpaid_order_earns_nothing_until_paid(app, ctx):
    store = add_store("shopify")
    apply(store, order_event("1", paid=False))
    assert rows(store) == []
    apply(store, order_event("1", version=1))
    assert _sum(store) == 100


def test_rate_change_between_order_and_refund_reverses_what_was_awarded(app, ctx):
    store = add_store("shopify")
    update_settings(db.session, store, {"points_per_unit": {"EUR": "2"}})
    apply(store, order_event("1", total="100.00"))
    assert _sum(store) == 200
    update_settings(db.session, store, {"points_per_unit": {"EUR": "10"}})
    apply(store, refund_event("1", "r1", "25.00"))
    assert {r.source_key: r.points for r in rows(store)} == {"order:1:earn": 200, "refund:r1:reverse": -50}
    apply(store, refund_event("1", "r2", "75.00"))
    assert _sum(store) == 0
    assert check_invariants(db.session, store) == []


def test_refund_before_payment_nets_once_earned(app, ctx):
    store = add_store("shopify")
    apply(store, refund_event("1", "r1", "40.00"))  # no order yet: nothing
    assert rows(store) == []
    apply(store, order_event("1", paid=False))
    apply(store, order_event("1", version=1))
    assert _sum(store) == 60


def test_cancellation_before_create_then_restore_and_delete(app, ctx):
    store = add_store("woocommerce")
    apply(store, deleted_event("1"))  # deleted before it arrives: remembered, never earns
    apply(store, order_event("1"))
    assert _sum(store) == 0
    apply(store, order_event("1", version=1, restored=True))
    assert _sum(store) == 100
    apply(store, order_event("1", version=2, cancelled=True))
    assert {r.source_key for r in rows(store)} == {"order:1:earn", "order:1:cancel"} and _sum(store) == 0
    apply(store, refund_event("1", "r1", "10.00"), order_event("1", version=3))  # un-cancelled, partly refunded
    assert _sum(store) == 90
    apply(store, deleted_event("1"))
    assert _sum(store) == 0
    assert "order:1:cancel:2" in {r.source_key for r in rows(store)}
    assert check_invariants(db.session, store) == []


def test_availability_follows_delivery_and_fulfilment(app, ctx):
    store = add_store("shopify")
    apply(store, order_event("1"))
    who = customer()
    assert balance(db.session, store, who, T0 + timedelta(days=400)).pending == 100
    apply(store, fulfil_event("1", T0))
    earn = rows(store)[0]
    assert earn.available_at == T0 + timedelta(days=30)
    apply(store, delivered_event("1", T0 + timedelta(days=3)))
    db.session.refresh(earn)
    assert earn.available_at == T0 + timedelta(days=17)
    before = balance(db.session, store, who, T0 + timedelta(days=16))
    after = balance(db.session, store, who, T0 + timedelta(days=17))
    assert (before.pending, before.spendable, after.pending, after.spendable) == (100, 0, 0, 100)
    # a refund of a not-yet-spendable order takes from pending, never from spendable
    apply(store, refund_event("1", "r1", "50.00"))
    assert balance(db.session, store, who, T0 + timedelta(days=16)).spendable == 0


def test_guest_points_are_held_then_move_to_the_account(app, ctx):
    store = add_store("shopify")
    guest = ann(platform_id=None)
    apply(store, order_event("1", customer=guest), fulfil_event("1", T0 - timedelta(days=60)))
    g = customer(None)
    held = balance(db.session, store, g, T0)
    assert (held.total, held.spendable, held.held) == (100, 0, 100)
    apply(store, order_event("2", customer=ann(platform_id="9"), total="10.00"))  # the account, other email
    apply(store, customer_event(ann(platform_id="9")))  # the account now claims the guest's email: merge
    acct = customer("9")
    assert customer(None) is None or customer(None).id == acct.id
    now_balance = balance(db.session, store, acct, utcnow())  # the signup reward is spendable from now
    assert now_balance.total == 100 + 10 + 50  # both orders and the signup reward
    assert now_balance.spendable == 100 + 50 and now_balance.held == 0
    assert account(store, acct.id).balance == now_balance.total
    assert check_invariants(db.session, store) == []


def test_multi_currency_orders_earn_with_their_own_rates(app, ctx):
    store = add_store("shopify")
    update_settings(db.session, store, {"points_per_unit": {"EUR": "1", "USD": "2", "JPY": "0.01"}})
    apply(
        store,
        order_event("1", total="50.00", currency="EUR"),
        order_event("2", total="50.00", currency="USD"),
        order_event("3", total="12345", currency="JPY"),
        order_event("4", total="50.00", currency="GBP"),
    )
    assert {r.order_platform_id: r.points for r in rows(store)} == {"1": 50, "2": 100, "3": 123, "4": 50}


def test_subtotal_basis_excludes_shipping_and_total_basis_includes_it(app, ctx):
    store = add_store("shopify")
    apply(store, order_event("1", total="110.00", subtotal="95.99"))
    update_settings(db.session, store, {"basis": "total"})
    apply(store, order_event("2", total="110.00", subtotal="95.99"))
    assert {r.order_platform_id: r.points for r in rows(store)} == {"1": 95, "2": 110}
    apply(store, refund_event("1", "r1", "55.00"))  # half of the total back: half of the points
    assert {r.source_key: r.points for r in rows(store)}["refund:r1:reverse"] == -47
