"""Settings validation and CLI, holds and releases, action rewards, the scheduler step (availability, expiry)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app.extensions import db
from app.loyalty import tasks as loyalty_tasks
from app.loyalty.api import (
    InsufficientPoints,
    award_action,
    award_birthday,
    balance,
    check_invariants,
    hold_points,
    release_hold,
)
from app.loyalty.settings import SettingsError, get_settings, validate_settings
from app.platform.types import utcnow
from tests.helpers import add_store
from tests.loyalty.conftest import T0, account, apply, customer, delivered_event, fulfil_event, order_event, rows


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"colour": "red"}, "loyalty"),
        ({"points_per_unit": {"EUR": 0.5}}, "points_per_unit.EUR"),
        ({"points_per_unit": {"euro": "1"}}, "points_per_unit"),
        ({"basis": "gross"}, "basis"),
        ({"return_window_days": -1}, "return_window_days"),
        ({"actions": {"tweet": 5}}, "actions"),
        ({"expiry": {"inactive_months": "12"}}, "expiry.inactive_months"),
        ({"rewards": [{"id": "r", "type": "fixed_amount", "points": 100, "value": "5"}]}, "rewards[0].currency"),
        ({"rewards": [{"id": "r", "type": "percentage", "points": 100, "value": "150"}]}, "rewards[0].value"),
        (
            {"tiers": [{"name": "Gold", "threshold": "1", "basis": "points", "window": "lifetime", "multiplier": "2"}]},
            "tiers[0].basis",
        ),
    ],
)
def test_invalid_settings_name_the_field(raw, field):
    with pytest.raises(SettingsError) as caught:
        validate_settings(raw)
    assert caught.value.field == field


def test_settings_read_through_the_cache_follow_every_edit(ctx):
    """get_settings is memoized by the stored JSON (the worker asks once per order): an edit, in place or by a
    new dict, is a new key; a bad edit raises each time; the cached value shares no dict with the store."""
    store = add_store("shopify")
    store.settings = {"loyalty": {"return_window_days": 7}}
    first = get_settings(store)
    assert first.return_window_days == 7 and get_settings(store) is first
    store.settings["loyalty"]["return_window_days"] = 3  # in place
    assert get_settings(store).return_window_days == 3
    first.raw["return_window_days"] = 99  # a caller scribbling on a value changes nobody's settings
    assert store.settings["loyalty"]["return_window_days"] == 3
    store.settings = {"loyalty": {"basis": "gross"}}
    for _ in range(2):
        with pytest.raises(SettingsError):
            get_settings(store)


def test_settings_cli_show_and_set(app, ctx):
    store = add_store("shopify")
    runner = app.test_cli_runner()
    shown = json.loads(runner.invoke(args=["loyalty", "settings", "show", store.domain]).output)
    assert shown["points_per_unit"] == {"default": "1"} and shown["expiry"]["inactive_months"] == 12
    patch = '{"points_per_unit": {"JPY": 0.01}, "actions": {"review": 10}}'
    done = runner.invoke(args=["loyalty", "settings", "set", str(store.id), "--json", patch])
    assert done.exit_code == 0, done.output
    saved = json.loads(done.output)
    assert saved["points_per_unit"] == {"default": "1", "JPY": "0.01"} and saved["actions"]["signup"] == 50
    db.session.expire_all()
    assert str(get_settings(db.session.get(type(store), store.id)).rate("JPY")) == "0.01"
    bad = runner.invoke(args=["loyalty", "settings", "set", store.domain, "--json", '{"basis": "gross"}'])
    assert bad.exit_code != 0 and "basis" in bad.output


def _delivered_customer(store, total="100.00"):
    apply(store, order_event("1", total=total), fulfil_event("1", T0), delivered_event("1", T0))
    return customer()


def test_holds_need_spendable_points_and_release_once(app, ctx):
    store = add_store("shopify")
    who = _delivered_customer(store)
    now = T0 + timedelta(days=20)
    with pytest.raises(InsufficientPoints):
        hold_points(db.session, store, who, 50, "redeem:a", {"reward": "5off"}, now=T0)  # still pending
    hold = hold_points(db.session, store, who, 60, "redeem:a", {"reward": "5off"}, now=now)
    assert hold_points(db.session, store, who, 60, "redeem:a", {"reward": "5off"}, now=now).id == hold.id
    with pytest.raises(InsufficientPoints):
        hold_points(db.session, store, who, 41, "redeem:b", {}, now=now)
    assert balance(db.session, store, who, now).spendable == 40
    assert release_hold(db.session, store, "redeem:a", "expired", now=now).points == 60
    assert release_hold(db.session, store, "redeem:a", "expired", now=now) is None
    assert balance(db.session, store, who, now).spendable == 100
    assert check_invariants(db.session, store) == []


def test_spent_points_then_refund_show_a_negative_spendable(app, ctx):
    from tests.loyalty.conftest import refund_event

    store = add_store("shopify")
    who = _delivered_customer(store)
    now = T0 + timedelta(days=20)
    hold_points(db.session, store, who, 100, "redeem:all", {}, now=now)
    apply(store, refund_event("1", "r1", "100.00"))
    assert balance(db.session, store, who, now).spendable == -100


def test_action_rewards_once_per_ref(app, ctx):
    store = add_store("shopify")
    who = _delivered_customer(store)
    assert award_action(db.session, store, who, "review", "rev-1", now=T0).points == 25
    assert award_action(db.session, store, who, "review", "rev-1", now=T0) is None
    assert award_birthday(db.session, store, who, 2026, now=T0).points == 100
    assert award_birthday(db.session, store, who, 2026, now=T0) is None
    with pytest.raises(ValueError):
        award_action(db.session, store, who, "tweet", "x")
    assert sum(r.points for r in rows(store)) == 225


def test_scheduler_refreshes_when_points_become_spendable_and_expires_inactive(app, ctx):
    store = add_store("shopify")
    shipped = utcnow().replace(microsecond=0)  # the pipeline reconciles on the real clock
    apply(store, order_event("1"), fulfil_event("1", shipped), delivered_event("1", shipped))
    who_id = customer().id
    assert account(store, who_id).spendable == 0  # reconciled at processing time: still pending
    available = shipped + timedelta(days=14)
    assert loyalty_tasks.tick(app, now=available - timedelta(seconds=1))["refreshed"] == 0
    assert loyalty_tasks.tick(app, now=available)["refreshed"] == 1
    assert loyalty_tasks.tick(app, now=available + timedelta(hours=1))["refreshed"] == 0  # watermark
    assert account(store, who_id).spendable == 100
    acct = account(store, who_id)
    expires = acct.expires_at
    assert expires is not None and acct.reminder_due_at == expires - timedelta(days=14)
    assert len(loyalty_tasks.due_reminders(db.session, store, acct.reminder_due_at)) == 1
    assert loyalty_tasks.tick(app, now=expires - timedelta(seconds=1))["expired"] == 0
    assert loyalty_tasks.tick(app, now=expires)["expired"] == 1
    assert loyalty_tasks.tick(app, now=expires + timedelta(days=1))["expired"] == 0
    db.session.expire_all()
    kinds = sorted(r.kind for r in rows(store))
    assert kinds == ["earn", "expire"] and sum(r.points for r in rows(store)) == 0
    assert check_invariants(db.session, store) == []
