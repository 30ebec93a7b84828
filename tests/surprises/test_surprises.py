"""Repeat-customer surprises against the stand-in stores (real HTTP): the 2nd paid order earns a code created once
in the store, the 3rd points in the ledger, each with its message; duplicated webhooks change nothing; a cancelled
order takes its surprise back (the code deleted in the store, the points reversed). WooCommerce: free shipping,
taken back on cancellation. Past orders never surprise; a segment condition; concurrent deciders (PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.loyalty.api import check_invariants
from app.loyalty.models import PointsLedger
from app.messaging.api import Message
from app.records.history import forget_policy, set_up
from app.records.models import Customer
from app.stores.models import Store
from app.surprises.service import decide
from app.surprises.settings import update_settings
from tests.helpers import SHOP, add_store, add_woo_store_at, process_all, shopify_order, shopify_standin, woo_standin
from tests.journeys.conftest import post_shopify, post_woo, woo_order
from tests.surprises.conftest import STARTED, enable, run_jobs, surprises

TEN_OFF = {"order": 2, "kind": "percentage", "value": "10", "expires_days": 30}
POINTS = {"order": 3, "kind": "points", "points": 250}


def _order(n: int, **extra) -> dict:
    """The customer 8100's nth order, placed a day after the one before."""
    day = f"2026-11-0{n}T10:00:00-05:00"
    extra.setdefault("updated_at", day)  # Shopify's paid moment: the first paid snapshot's (records/orders.py)
    return shopify_order(8100 + n, customer_id=8100, email="rita@example.com", created_at=day, **extra)


def test_shopify_codes_and_points_once_each_and_taken_back_on_cancellation(app, client, monkeypatch):
    with shopify_standin(app, monkeypatch) as server:
        with app.app_context():
            enable(add_store("shopify", currency="USD"), TEN_OFF, POINTS)
        for n in (1, 2, 3):
            post_shopify(client, "orders/create", _order(n))
        post_shopify(client, "orders/updated", _order(2), event_id="dup-2")  # the same order again
        process_all(app)
        found = surprises(app)
        assert [(s.threshold, s.order_platform_id, s.status, s.kind) for s in found] == [
            (2, "8102", "pending", "percentage"),
            (3, "8103", "pending", "points"),
        ]
        run_jobs(app)
        run_jobs(app)  # nothing due twice
        discounts = server.state(SHOP).writeback.discounts
        code = found[0].code
        assert list(discounts) == [code]  # exactly one code for the one coded surprise
        stored = discounts[code]["input"]
        assert stored["usageLimit"] == 1 and stored["customerGets"]["value"] == {"percentage": 0.1}
        assert stored["context"] == {"customers": {"add": ["gid://shopify/Customer/8100"]}}
        assert [s.status for s in surprises(app)] == ["issued", "issued"]
        with app.app_context():
            store = db.session.scalars(select(Store)).one()
            keys = sorted(
                m.dedupe_key for m in db.session.scalars(select(Message).where(Message.template == "surprise_ready"))
            )
            assert keys == sorted(f"surprise:{s.id}:ready" for s in found)
            points = db.session.scalars(select(PointsLedger).where(PointsLedger.source_key.like("surprise:%"))).all()
            assert [(p.source_key, p.points) for p in points] == [(f"surprise:{found[1].id}:points", 250)]
            db.session.remove()

        for n in (2, 3):  # both earning orders cancelled before the code was used
            post_shopify(client, "orders/cancelled", _order(n, cancelled_at="2026-11-05T10:00:00Z",
                                                              updated_at="2026-11-05T10:00:00Z"))  # fmt: skip
        process_all(app)
        assert [s.status for s in surprises(app)] == ["reversing", "reversing"]
        run_jobs(app)
        assert [s.status for s in surprises(app)] == ["reversed", "reversed"]
        assert server.state(SHOP).writeback.discounts == {}
        assert [d["input"]["code"] for d in server.state(SHOP).writeback.deleted] == [code]
        with app.app_context():
            store = db.session.scalars(select(Store)).one()
            ledger = db.session.scalars(select(PointsLedger).where(PointsLedger.source_key.like("surprise:%"))).all()
            assert sorted(p.points for p in ledger) == [-250, 250] and check_invariants(db.session, store) == []
            # Two standing orders again (a 4th arrives): thresholds are decided once, never again.
            db.session.remove()
        post_shopify(client, "orders/create", _order(4))
        process_all(app)
        assert len(surprises(app)) == 2


def test_a_used_code_is_not_taken_back(app, client, monkeypatch):
    with shopify_standin(app, monkeypatch) as server:
        with app.app_context():
            enable(add_store("shopify", currency="USD"), TEN_OFF)
        for n in (1, 2):
            post_shopify(client, "orders/create", _order(n))
        process_all(app)
        run_jobs(app)
        [surprise] = surprises(app)
        post_shopify(client, "orders/create", _order(3, discount_codes=[{"code": surprise.code, "amount": "1.00",
                                                                          "type": "percentage"}]))  # fmt: skip
        post_shopify(client, "orders/cancelled", _order(2, cancelled_at="2026-11-05T10:00:00Z",
                                                         updated_at="2026-11-05T10:00:00Z"))  # fmt: skip
        process_all(app)
        run_jobs(app)
        [after] = surprises(app)
        assert (after.status, after.used_order_platform_id) == ("used", "8103")
        assert list(server.state(SHOP).writeback.discounts) == [surprise.code]


def _woo(pid: int, **kwargs) -> dict:
    """The fixture's order placed and paid on 2026-11-0N (the fixture's own dates are from 2017)."""
    order = woo_order(pid, **kwargs)
    day = f"2026-11-0{pid - 900}T09:00:00"
    return {**order, "date_created_gmt": day, "date_created": day, "date_paid_gmt": day, "date_paid": day}


def test_woocommerce_free_shipping_taken_back_on_cancellation(app, client, monkeypatch):
    with woo_standin(app, monkeypatch, timeout=5) as site:
        with app.app_context():
            enable(add_woo_store_at(site), {"order": 2, "kind": "free_shipping", "expires_days": 14})
        for pid in (901, 902):
            post_woo(client, "order.updated", _woo(pid, completed=True, modified=f"2026-11-0{pid - 900}T10:00:00"))
        process_all(app)
        run_jobs(app)
        [surprise] = surprises(app)
        assert surprise.status == "issued" and surprise.order_platform_id == "902"
        [coupon] = site.writeback.coupons.values()
        assert coupon["free_shipping"] is True and coupon["usage_limit"] == 1
        assert coupon["email_restrictions"] == ["wanda@example.com"]
        cancelled = _woo(902, completed=False, modified="2026-11-03T10:00:00")
        cancelled["status"] = "cancelled"
        post_woo(client, "order.updated", cancelled)
        process_all(app)
        run_jobs(app)
        [after] = surprises(app)
        assert after.status == "reversed" and site.writeback.coupons == {}
        assert [c["code"] for c in site.writeback.deleted_coupons] == [surprise.code.lower()]


def test_imported_past_orders_never_surprise(app, client):
    with app.app_context():
        store = add_store("shopify", currency="USD")
        enable(store, TEN_OFF, {"order": 4, "kind": "points", "points": 10})
        # The store's history cut-off falls between the 2nd and the 3rd order: the 2nd is past.
        set_up(db.session, store.id, earn_points=False, tiers_from_past=False, now=STARTED + timedelta(days=33))
        forget_policy(db.session, store.id)
        db.session.commit()
    for n in (1, 2, 3, 4):
        post_shopify(client, "orders/create", _order(n))
    process_all(app)
    found = surprises(app)
    assert [(s.threshold, s.status, s.skip_reason) for s in found] == [
        (2, "skipped", "past_order"),
        (4, "pending", None),
    ]


def test_a_segment_condition_and_orders_paid_before_the_start(app, client):
    with app.app_context():
        store = add_store("shopify", currency="USD")
        # Started after the 2nd order: it earns nothing (a merchant turning the programme on surprises no one for
        # what they bought before); the 3rd needs the lifecycle segment "new" (one order), which a 3rd never is.
        only_new = {"order": 3, "kind": "points", "points": 5, "segment": "new"}
        update_settings(
            db.session, store, {"enabled": True, "thresholds": [TEN_OFF, only_new]}, STARTED + timedelta(days=33)
        )
        db.session.commit()
    for n in (1, 2, 3):
        post_shopify(client, "orders/create", _order(n))
    process_all(app)
    assert [(s.threshold, s.status, s.skip_reason) for s in surprises(app)] == [
        (2, "skipped", "before_start"),
        (3, "skipped", "segment"),
    ]


def test_concurrent_deciders_make_one_surprise(app, client):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite serialises writers; the race on the unique key is PostgreSQL's")
        enable(add_store("shopify", currency="USD"), TEN_OFF)
    for n in (1, 2):
        post_shopify(client, "orders/create", _order(n))
    with app.app_context():  # the orders recorded with the programme off, so the race below is the first decision
        store = db.session.scalars(select(Store)).one()
        enable(store, TEN_OFF, enabled=False)
    process_all(app)
    with app.app_context():
        store = db.session.scalars(select(Store)).one()
        enable(store, TEN_OFF)
        store_id = store.id
        customer_id = db.session.scalar(select(Customer.id).where(Customer.platform_id == "8100"))
        db.session.remove()
    barrier, made, errors = threading.Barrier(6), [], []

    def decider() -> None:
        with app.app_context():
            try:
                store = db.session.get_one(Store, store_id)
                barrier.wait()
                made.extend(s.id for s in decide(db.session, store, [customer_id], STARTED + timedelta(days=40)))
                db.session.commit()
            except Exception as exc:  # noqa: BLE001  (reported below)
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=decider) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(made) == 1 and [s.id for s in surprises(app)] == made
