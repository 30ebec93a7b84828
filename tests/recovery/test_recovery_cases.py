"""Service recovery against the stand-in stores (real HTTP): a late parcel (Shopify: the carrier's promised delivery
passed; a carrier failure) opens one case per order, whose coupon is created once in the store and the apology
queued; a refund before use deletes the coupon in the store; any programme can open a case (WooCommerce: a low
rating), and its coupon is taken back when the order is cancelled. Concurrent openers: one case (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from app.extensions import db
from app.journeys.late import scan_late_parcels
from app.messaging.api import Message
from app.platform.queue import get_queue
from app.recovery import RecoveryCase, open_case
from app.recovery.tasks import tick
from app.stores.models import Store
from app.stores.settings import update_store_settings
from tests.helpers import SHOP, add_store, add_woo_store_at, process_all, shopify_order, shopify_standin, woo_standin
from tests.journeys.conftest import carrier_event, fulfillment, post_shopify, post_woo, woo_order

RECOVERY = {"enabled": True, "coupon": {"kind": "percentage", "value": "15", "expires_days": 30}}


def _run_jobs(app) -> None:
    tick(app)
    with app.app_context():
        queue = get_queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def _cases(app) -> list[RecoveryCase]:
    with app.app_context():
        rows = list(db.session.scalars(select(RecoveryCase).order_by(RecoveryCase.id)))
        db.session.expunge_all()
        db.session.remove()
    return rows


def _enable(store: Store, **extra) -> None:
    store.contact_email = "owner@shop.example"  # where the merchant is told (support's fallback address)
    update_store_settings(db.session, store, {"recovery": {**RECOVERY, **extra}})
    db.session.commit()


def test_late_shopify_parcels_open_one_case_and_one_coupon_reversed_on_refund(app, client, monkeypatch):
    with shopify_standin(app, monkeypatch) as server:
        with app.app_context():
            _enable(add_store("shopify", currency="USD"))
        post_shopify(client, "orders/create", shopify_order(7100, customer_id=7101, email="late@example.com"))
        for parcel in (71001, 71002):  # two late parcels of one order: one case
            post_shopify(client, "fulfillments/create", fulfillment(7100, parcel))
            eta = carrier_event(7100, parcel, parcel + 5, "in_transit", estimated_delivery_at="2026-11-03T12:00:00Z")
            post_shopify(client, "fulfillment_events/create", eta)
        post_shopify(client, "orders/create", shopify_order(7200, customer_id=7201, email="lost@example.com"))
        post_shopify(client, "fulfillments/create", fulfillment(7200, 72001))
        post_shopify(client, "fulfillment_events/create", carrier_event(7200, 72001, 9, "failure"))
        process_all(app)

        scan_late_parcels(app)
        scan_late_parcels(app)  # the next tick finds nothing new
        cases = _cases(app)
        assert [(c.order_platform_id, c.reason, c.status) for c in cases] == [
            ("7100", "late_parcel", "pending"),
            ("7200", "carrier_failure", "pending"),
        ]
        _run_jobs(app)
        _run_jobs(app)  # nothing due twice
        discounts = server.state(SHOP).writeback.discounts
        assert sorted(discounts) == sorted(c.code for c in cases)  # exactly one coupon per order
        stored = discounts[cases[0].code]["input"]
        assert stored["usageLimit"] == 1 and stored["customerGets"]["value"] == {"percentage": 0.15}
        assert [c.status for c in _cases(app)] == ["issued", "issued"]
        with app.app_context():
            apologies = db.session.scalars(select(Message).where(Message.template == "recovery_apology")).all()
            assert sorted(m.dedupe_key for m in apologies) == sorted(f"recovery:{c.id}:apology" for c in cases)
            alerts = db.session.scalars(select(Message).where(Message.template == "merchant_recovery_case")).all()
            assert [m.to_address for m in alerts] == ["owner@shop.example"] * 2  # the merchant told once per case

        refund = {"id": 880, "order_id": 7100, "created_at": "2026-11-05T10:00:00Z", "transactions": [
            {"kind": "refund", "status": "success", "amount": "10.00", "currency": "USD"}]}  # fmt: skip
        post_shopify(client, "refunds/create", refund)
        process_all(app)
        assert [c.status for c in _cases(app)] == ["reversing", "issued"]
        _run_jobs(app)
        assert [c.status for c in _cases(app)] == ["reversed", "issued"]
        assert sorted(discounts) == [cases[1].code]  # deleted in the store
        assert [d["input"]["code"] for d in server.state(SHOP).writeback.deleted] == [cases[0].code]


def test_any_programme_opens_a_woocommerce_case_taken_back_on_cancellation(app, client, monkeypatch):
    with woo_standin(app, monkeypatch, timeout=5) as site:
        with app.app_context():
            store = add_woo_store_at(site)
            _enable(store, coupon={"kind": "fixed_amount", "value": "5.50"})
            store_id = store.id
        post_woo(client, "order.updated", woo_order(901, completed=True, modified="2026-11-02T10:00:00"))
        process_all(app)
        with app.app_context():
            store = db.session.get(Store, store_id)
            first = open_case(db.session, store, order_id="901", customer_id=None, reason="low_rating", source="r:1")
            again = open_case(db.session, store, order_id="901", customer_id=None, reason="manual", source="x")
            assert first is not None and again is first and first.currency == "USD"
            db.session.commit()
            db.session.remove()
        _run_jobs(app)
        [coupon] = site.writeback.coupons.values()
        assert coupon["amount"] == "5.50" and coupon["usage_limit"] == 1 and coupon["discount_type"] == "fixed_cart"
        assert coupon["email_restrictions"] == ["wanda@example.com"]
        cancelled = woo_order(901, completed=False, modified="2026-11-03T10:00:00")
        cancelled["status"] = "cancelled"
        post_woo(client, "order.updated", cancelled)
        process_all(app)
        _run_jobs(app)
        [case] = _cases(app)
        assert case.status == "reversed" and site.writeback.coupons == {}
        assert [c["code"] for c in site.writeback.deleted_coupons] == [case.code.lower()]


def test_a_refund_before_the_coupon_exists_never_creates_it(app, client, monkeypatch):
    with shopify_standin(app, monkeypatch) as server:
        with app.app_context():
            _enable(add_store("shopify", currency="USD"))
        post_shopify(client, "orders/create", shopify_order(7300, customer_id=7301, email="r@example.com"))
        process_all(app)
        with app.app_context():
            store = db.session.scalars(select(Store)).one()
            assert open_case(db.session, store, order_id="7300", customer_id=None, reason="manual", source="t")
            db.session.commit()
            db.session.remove()
        refund = {"id": 881, "order_id": 7300, "created_at": "2026-11-05T10:00:00Z", "transactions": [
            {"kind": "refund", "status": "success", "amount": "1.00", "currency": "USD"}]}  # fmt: skip
        post_shopify(client, "refunds/create", refund)
        process_all(app)
        _run_jobs(app)
        assert [c.status for c in _cases(app)] == ["reversed"]
        assert server.state(SHOP).writeback.discounts == {}


def test_concurrent_openers_make_one_case(app, client):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite serialises writers; the race on the unique key is PostgreSQL's")
        _enable(add_store("shopify", currency="USD"))
    post_shopify(client, "orders/create", shopify_order(7400, customer_id=7401, email="c@example.com"))
    process_all(app)
    barrier, ids, errors = threading.Barrier(8), [], []

    def open_one(n: int) -> None:
        with app.app_context():
            try:
                store = db.session.scalars(select(Store)).one()
                barrier.wait()
                case = open_case(db.session, store, order_id="7400", customer_id=None, reason="manual", source=str(n))
                db.session.commit()
                ids.append(case.id if case else None)
            except Exception as exc:  # noqa: BLE001  (reported below)
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=open_one, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(ids)) == 1 and len(_cases(app)) == 1


def test_a_refund_after_the_store_refused_the_coupon_closes_the_case(app, client):
    """A `failed` case holds no coupon: the refund closes it at once (moved to `reversing`, its job would have had
    no coupon to delete)."""
    with app.app_context():
        _enable(add_store("shopify", currency="USD"))
    post_shopify(client, "orders/create", shopify_order(7900, customer_id=7901, email="x@example.com"))
    process_all(app)
    with app.app_context():
        store = db.session.scalars(select(Store)).one()
        case = open_case(db.session, store, order_id="7900", customer_id=None, reason="manual", source="t")
        case.status, case.last_error = "failed", "ConnectorError: refused"
        db.session.commit()
        db.session.remove()
    refund = {"id": 882, "order_id": 7900, "created_at": "2026-11-05T10:00:00Z", "transactions": [
        {"kind": "refund", "status": "success", "amount": "1.00", "currency": "USD"}]}  # fmt: skip
    post_shopify(client, "refunds/create", refund)
    process_all(app)
    assert [c.status for c in _cases(app)] == ["reversed"]
    _run_jobs(app)  # nothing due
    assert [c.status for c in _cases(app)] == ["reversed"]


def test_a_late_woocommerce_parcel_opens_a_case_from_trackships_promise(app, client, monkeypatch):
    """AST's tracking with TrackShip's `shipment_status` meta: its est_delivery_date is the parcel's promise, so a
    WooCommerce parcel past it (and the grace) opens a case and its coupon is made in the store; a parcel whose
    plugin states no promise (YITH) is never called late."""
    from tests.journeys.conftest import woo_parcel_snapshot

    with woo_standin(app, monkeypatch, timeout=5) as site:
        with app.app_context():
            _enable(add_woo_store_at(site))
        post_woo(client, "order.updated", woo_parcel_snapshot(930, "ast", 2))  # promised 2026-11-06, not delivered
        post_woo(client, "order.updated", woo_parcel_snapshot(931, "yith", 2))
        process_all(app)
        scan_late_parcels(app)
        [case] = _cases(app)
        assert (case.order_platform_id, case.reason, case.source) == ("930", "late_parcel", "fulfillment:930-completed")
        _run_jobs(app)
        [coupon] = site.writeback.coupons.values()
        assert coupon["code"] == case.code.lower() and coupon["email_restrictions"] == ["w930@example.com"]
