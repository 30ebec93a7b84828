"""VIP tiers: upgrades on points earned and on amount spent, the multiplier recorded on the earn and used by its
reversal, the reward once, rolling windows (no downgrade before the window ends) and lifetime tiers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.loyalty import orders as loyalty_orders
from app.loyalty import tasks as loyalty_tasks
from app.loyalty.api import check_invariants, refresh_account
from app.loyalty.ledger import add_months
from app.loyalty.models import LoyaltyTierChange
from app.loyalty.settings import update_settings
from app.loyalty.tiers import roll_windows
from app.platform.types import utcnow
from tests.helpers import add_store
from tests.loyalty.conftest import account, ann, apply, customer, order_event, refund_event, rows

START = utcnow().replace(microsecond=0)


def _tier(name, threshold, *, basis="points_earned", window="lifetime", multiplier="1", reward=0):
    return {
        "name": name,
        "threshold": threshold,
        "basis": basis,
        "window": window,
        "multiplier": multiplier,
        "reward_points": reward,
    }


def _store(*tiers, currency="EUR"):
    store = add_store("shopify", currency=currency)
    update_settings(db.session, store, {"tiers": list(tiers)})
    db.session.commit()
    return store


def _paid_at(monkeypatch, store, pid, total, when):
    """An order paid and processed at `when`: the pipeline's loyalty step reads its clock from loyalty_orders."""
    monkeypatch.setattr(loyalty_orders, "utcnow", lambda: when)
    apply(store, order_event(pid, total=total))


def _changes(store, customer_id):
    stmt = select(LoyaltyTierChange).where(
        LoyaltyTierChange.store_id == store.id, LoyaltyTierChange.customer_id == customer_id
    )
    return [(c.from_tier, c.to_tier, c.reason) for c in db.session.scalars(stmt.order_by(LoyaltyTierChange.id))]


def test_points_earned_upgrade_multiplier_on_next_earn_and_its_reversal_reward_once(app, ctx):
    store = _store(
        _tier("Silver", "100", multiplier="1.5"),
        _tier("Gold", "300", multiplier="2", reward=50),
    )
    apply(store, order_event("1", total="120.00"))
    who = customer()
    acct = account(store, who.id)
    assert (acct.tier, acct.tier_expires_at) == ("Silver", None) and acct.tier_since is not None
    earns = {r.source_key: r for r in rows(store)}
    assert earns["order:1:earn"].rule["multiplier"] == "1" and earns["order:1:earn"].points == 120  # earned before

    apply(store, order_event("2", total="100.00"))
    second = {r.source_key: r for r in rows(store)}["order:2:earn"]
    assert (second.points, second.rule["multiplier"], second.rule["tier"]) == (150, "1.5", "Silver")
    assert account(store, who.id).tier == "Silver"  # 270 earned < 300

    apply(store, order_event("3", total="100.00"))  # 150 more: 420 >= 300
    assert account(store, who.id).tier == "Gold"
    reward = [r for r in rows(store) if r.kind == "tier_reward"]
    assert [(r.source_key, r.points) for r in reward] == [(f"tier:Gold:{who.id}:lifetime", 50)]

    # The reversal of order 3 uses the 1.5 it earned with, though the customer is Gold (x2) by now.
    apply(store, refund_event("3", "r1", "50.00"))
    assert {r.source_key: r.points for r in rows(store)}["refund:r1:reverse"] == -75
    apply(store, refund_event("3", "r2", "50.00"), order_event("3", total="100.00", version=1))
    db.session.expire_all()
    acct = account(store, who.id)
    assert acct.tier == "Gold"  # 270 earned now, but a lifetime tier never goes down
    assert acct.lifetime_earned == 270 and acct.balance == 270 + 50  # the reward is not "earned"
    refresh_account(db.session, store, who.id, START + timedelta(days=800))
    assert [r for r in rows(store) if r.kind == "tier_reward"] == reward  # once
    assert _changes(store, who.id) == [(None, "Silver", "upgrade"), ("Silver", "Gold", "upgrade")]
    apply(store, order_event("4", total="10.00"))
    assert {r.source_key: r for r in rows(store)}["order:4:earn"].rule["multiplier"] == "2"
    assert check_invariants(db.session, store) == []


def test_amount_spent_counts_paid_standing_orders_in_the_headline_currency(app, ctx):
    store = _store(_tier("VIP", "200", basis="amount_spent", multiplier="1.25", reward=20))
    apply(store, order_event("1", total="150.00"))
    apply(store, order_event("2", total="400.00", currency="USD"))  # another currency: not EUR spend
    apply(store, order_event("3", total="500.00", paid=False))  # not paid: not spent
    who = customer()
    assert account(store, who.id).tier is None
    apply(store, order_event("4", total="60.00"))  # 210 EUR
    acct = account(store, who.id)
    assert acct.tier == "VIP" and acct.balance == 150 + 400 + 60 + 20
    apply(store, order_event("5", total="40.00"))
    assert {r.source_key: r for r in rows(store)}["order:5:earn"].points == 50  # 40 x 1.25


def test_points_of_a_refunded_order_do_not_qualify(app, ctx):
    store = _store(_tier("Gold", "100", multiplier="2"))
    apply(store, order_event("1", total="100.00"), refund_event("1", "r1", "100.00"))
    # the order earned, then was fully refunded within one batch: net 0 earned; it qualified in between
    assert account(store, customer().id).tier == "Gold"
    store2 = add_store("shopify", "second-shop.myshopify.com", currency="EUR")
    update_settings(db.session, store2, {"tiers": [_tier("Gold", "100", multiplier="2")]})
    bob = ann("8001", "bob@example.com")
    apply(store2, refund_event("9", "r9", "60.00"), order_event("9", total="100.00", customer=bob))  # refund first
    assert account(store2, customer("8001", "bob@example.com").id).tier is None  # 40 net points


def test_rolling_window_keeps_the_tier_to_the_window_end_then_renews_or_drops(app, ctx, monkeypatch):
    store = _store(_tier("Gold", "100", window="rolling_12m", multiplier="2", reward=10))
    _paid_at(monkeypatch, store, "1", "100.00", START)
    who = customer()
    acct = account(store, who.id)
    end = add_months(START, 12)
    assert (acct.tier, acct.tier_since, acct.tier_expires_at) == ("Gold", START, end)
    assert [r.source_key for r in rows(store) if r.kind == "tier_reward"] == [
        f"tier:Gold:{who.id}:{START.date().isoformat()}"
    ]

    _paid_at(monkeypatch, store, "2", "100.00", START + timedelta(days=330))  # qualifies again: the window is not moved
    assert account(store, who.id).tier_expires_at == end
    assert roll_windows(db.session, store, end - timedelta(seconds=1)) == 0
    db.session.commit()
    assert loyalty_tasks.tick(app, now=end + timedelta(days=1))["tiers_rolled"] == 1
    db.session.expire_all()
    acct = account(store, who.id)
    assert (acct.tier, acct.tier_since, acct.tier_expires_at) == ("Gold", START, add_months(START, 24))  # renewed

    # order 2 falls out of the window before the renewed window ends; no downgrade until then
    refresh_account(db.session, store, who.id, add_months(START, 24) - timedelta(days=1))
    db.session.commit()
    assert account(store, who.id).tier == "Gold"
    assert loyalty_tasks.tick(app, now=add_months(START, 24) + timedelta(hours=1))["tiers_rolled"] == 1
    db.session.expire_all()
    acct = account(store, who.id)
    assert (acct.tier, acct.tier_since, acct.tier_expires_at) == (None, None, None)
    assert _changes(store, who.id) == [
        (None, "Gold", "upgrade"),
        ("Gold", "Gold", "renewed"),
        ("Gold", None, "downgrade"),
    ]
    assert loyalty_tasks.tick(app, now=add_months(START, 30))["tiers_rolled"] == 0

    _paid_at(monkeypatch, store, "3", "100.00", add_months(START, 36))  # reached again: a new period, a new reward
    assert account(store, who.id).tier == "Gold"
    assert len([r for r in rows(store) if r.kind == "tier_reward"]) == 2
    assert check_invariants(db.session, store) == []


def test_refund_inside_the_window_does_not_downgrade_before_its_end(app, ctx, monkeypatch):
    store = _store(
        _tier("Silver", "50", window="rolling_12m"),
        _tier("Gold", "100", window="rolling_12m", multiplier="2"),
    )
    _paid_at(monkeypatch, store, "1", "100.00", START)
    who = customer()
    apply(store, refund_event("1", "r1", "40.00"))  # 60 earned now: Silver is the target
    refresh_account(db.session, store, who.id, START + timedelta(days=100))
    assert account(store, who.id).tier == "Gold"
    _paid_at(monkeypatch, store, "2", "30.00", START + timedelta(days=180))  # 60 points at Gold's x2
    end = add_months(START, 12)
    roll_windows(db.session, store, end + timedelta(days=2))
    acct = account(store, who.id)
    # order 1 was earned at START: out of the window; order 2's 60 points qualify for Silver only
    assert (acct.tier, acct.tier_since, acct.tier_expires_at) == ("Silver", end, add_months(end, 12))
    assert _changes(store, who.id)[-1] == ("Gold", "Silver", "downgrade")


def test_lifetime_tier_never_downgrades_even_years_later(app, ctx, monkeypatch):
    store = _store(_tier("Gold", "100", multiplier="2"))
    _paid_at(monkeypatch, store, "1", "100.00", START)
    who = customer()
    assert account(store, who.id).tier_expires_at is None
    for years in (1, 5):
        loyalty_tasks.tick(app, now=add_months(START, 12 * years))
        refresh_account(db.session, store, who.id, add_months(START, 12 * years))
        db.session.commit()
    assert account(store, who.id).tier == "Gold"
    assert _changes(store, who.id) == [(None, "Gold", "upgrade")]
