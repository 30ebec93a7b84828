"""The liability report against a hand computation (two currencies; pending, spendable, held, expiring), and the
expiry reminder e-mail: queued once, in the customer's language, kept unsent for a suppressed address."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.loyalty import orders as loyalty_orders
from app.loyalty import tasks as loyalty_tasks
from app.loyalty.api import balance
from app.loyalty.ledger import add_months
from app.loyalty.report import liability_report
from app.loyalty.settings import update_settings
from app.messaging import email_hash, suppress
from app.messaging.models import Message
from app.messaging.render import render
from app.platform.types import utcnow
from connectors.events import CustomerSnapshot
from tests.helpers import add_store
from tests.loyalty.conftest import ann, apply, customer, delivered_event, fulfil_event, order_event

T = utcnow().replace(microsecond=0)
REWARDS = [
    {"id": "eur5", "type": "fixed_amount", "points": 500, "value": "5", "currency": "EUR"},  # 0.01 a point
    {"id": "eur12", "type": "fixed_amount", "points": 1000, "value": "12", "currency": "EUR"},  # 0.012: the best
    {"id": "usd5", "type": "fixed_amount", "points": 250, "value": "5", "currency": "USD"},  # 0.02
    {"id": "pct", "type": "percentage", "points": 100, "value": "50"},  # no fixed value: not used
]


def _at(monkeypatch, when, store, *events):
    """Process events as the pipeline does, its loyalty step on an injected clock."""
    monkeypatch.setattr(loyalty_orders, "utcnow", lambda: when)
    apply(store, *events)


def _delivered(monkeypatch, store, pid, total, who, when, currency="EUR"):
    _at(
        monkeypatch,
        when,
        store,
        order_event(pid, total=total, currency=currency, customer=who),
        fulfil_event(pid, when),
        delivered_event(pid, when),
    )


def test_report_matches_a_hand_computation(app, ctx, monkeypatch):
    store = add_store("shopify", currency="EUR")
    update_settings(db.session, store, {"rewards": REWARDS})
    db.session.commit()
    ann_ = ann("1", "ann@example.com")
    _delivered(monkeypatch, store, "1", "100.00", ann_, T)  # spendable 100 from T+14d, expires T+12m
    _at(monkeypatch, T, store, order_event("2", total="50.00", customer=ann("2", "bob@example.com")))  # pending 50
    _delivered(monkeypatch, store, "3", "200.00", ann("3", "cy@example.com"), add_months(T, 3), "USD")  # expires later
    _delivered(monkeypatch, store, "4", "30.00", ann(None, "dee@example.com"), T)  # a guest: held 30
    other = add_store("shopify", "other-shop.myshopify.com", currency="EUR")
    _delivered(monkeypatch, other, "1", "999.00", ann("1", "ann@example.com"), T)  # another store: not counted

    now = add_months(T, 12) - timedelta(days=20)
    loyalty_tasks.tick(app, now=now)  # the scheduler refreshed the caches (points became spendable)
    report = liability_report(db.session, store, now)
    by_currency = {c["currency"]: c for c in report["currencies"]}
    assert set(by_currency) == {"EUR", "USD"}
    eur, usd = by_currency["EUR"], by_currency["USD"]
    assert eur["points"] == {"outstanding": 180, "pending": 50, "spendable": 100, "held": 30, "expiring_30d": 100}
    assert (eur["accounts"], eur["value_per_point"], eur["value_from_reward"]) == (3, "0.012", "eur12")
    assert eur["value"] == {
        "outstanding": "2.16",
        "pending": "0.60",
        "spendable": "1.20",
        "held": "0.36",
        "expiring_30d": "1.20",
    }
    assert usd["points"] == {"outstanding": 200, "pending": 0, "spendable": 200, "held": 0, "expiring_30d": 0}
    assert (usd["value_per_point"], usd["value"]["outstanding"]) == ("0.02", "4.00")

    # the same figures from the rows, customer by customer (the cache agrees with the ledger)
    spendable = sum(
        balance(db.session, store, customer(pid, email), now).spendable
        for pid, email in (
            ("1", "ann@example.com"),
            ("2", "bob@example.com"),
            ("3", "cy@example.com"),
            (None, "dee@example.com"),
        )
    )
    assert spendable == eur["points"]["spendable"] + usd["points"]["spendable"]

    update_settings(db.session, store, {"rewards": []})
    assert {
        c["currency"]: c["value"]["outstanding"] for c in liability_report(db.session, store, now)["currencies"]
    } == {
        "EUR": None,
        "USD": None,
    }

    runner = app.test_cli_runner()
    db.session.commit()
    shown = json.loads(runner.invoke(args=["loyalty", "report", store.domain]).output)
    assert sum(c["points"]["outstanding"] for c in shown["currencies"]) == 380


def _messages(store):
    return list(db.session.scalars(select(Message).where(Message.store_id == store.id).order_by(Message.id)))


def test_expiry_reminder_queued_once_in_the_customers_language(app, ctx, monkeypatch):
    store = add_store("shopify", currency="PLN", name="Sklep")
    ola = CustomerSnapshot(platform_id="5", email="ola@example.com", first_name="Ola", locale="pl-PL")
    _delivered(monkeypatch, store, "1", "120.00", ola, T, "PLN")
    who = customer("5")
    expires = add_months(T, 12)
    assert loyalty_tasks.tick(app, now=expires - timedelta(days=15))["reminders_queued"] == 0  # not due yet
    assert loyalty_tasks.tick(app, now=expires - timedelta(days=14))["reminders_queued"] == 1
    assert loyalty_tasks.tick(app, now=expires - timedelta(days=13))["reminders_queued"] == 0
    [message] = _messages(store)
    assert message.dedupe_key == f"points_expiring:{who.id}:{expires.date().isoformat()}"
    assert (message.template, message.locale, message.status, message.customer_id) == (
        "points_expiring",
        "pl",
        "queued",
        who.id,
    )
    assert message.context["points"] == 120 and message.context["expires_on"] == expires.date().isoformat()
    rendered = render(
        "points_expiring", message.locale, message.context, store_name="Sklep", store_settings={}, unsubscribe_url="u"
    )
    assert "punktów wkrótce wygaśnie" in rendered.subject and "Ola" in rendered.text


def test_no_reminder_sent_to_a_suppressed_address(app, ctx, monkeypatch):
    store = add_store("shopify", currency="EUR")
    _delivered(monkeypatch, store, "1", "80.00", ann("6", "gone@example.com"), T)
    suppress(db.session, store, email_hash("gone@example.com"), "unsubscribe")
    db.session.commit()
    expires = add_months(T, 12)
    loyalty_tasks.tick(app, now=expires - timedelta(days=10))
    assert [(m.status, m.to_address is not None) for m in _messages(store)] == [("suppressed", True)]
    assert Decimal(_messages(store)[0].context["points"]) == 80
