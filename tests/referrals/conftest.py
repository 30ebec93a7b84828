"""Builders for referral tests: signed webhooks into the real app, a referrer with a code, a friend's landing."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.loyalty.models import PointsLedger
from app.records.models import Customer
from app.referrals.models import Referral, ReferralInvite
from app.referrals.service import get_or_create_code
from app.security import secret_box
from app.stores.models.woocommerce import WooStoreState
from app.stores.service import add_store
from tests.dashboard.conftest import dash  # noqa: F401  (the dashboard pages' app fixture)
from tests.helpers import dumps, process_all, shopify_headers, shopify_order
from tests.standins.woocommerce import WooStandin

PLACED = "2026-11-01T10:00:00-05:00"
DELIVERED = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
WINDOW_END = DELIVERED + timedelta(days=14)  # loyalty's default return window

HOME = {"address1": "12 Baker Street", "address2": "Flat 3", "city": "London", "zip": "NW1 6XE",
        "country_code": "GB", "phone": "+44 7700 900123"}  # fmt: skip
ELSEWHERE = {"address1": "9 Rue de Rivoli", "address2": None, "city": "Paris", "zip": "75001",
             "country_code": "FR", "phone": "+33 6 12 34 56 78"}  # fmt: skip


def post(client, topic: str, payload: dict[str, Any]) -> None:
    body = dumps(payload)
    answer = client.post("/webhooks/shopify", data=body, headers=shopify_headers(topic, body))
    assert answer.status_code == 200, answer.text


def order_payload(
    order_id: int,
    *,
    email: str,
    customer_id: int,
    address: dict[str, Any],
    codes: tuple[str, ...] = (),
    delivered: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    payload = shopify_order(order_id, email=email, customer_id=customer_id, **extra)
    payload["customer"] = {**payload["customer"], "phone": None, "first_name": email.split("@")[0].title()}
    payload["shipping_address"] = {**payload["shipping_address"], **copy.deepcopy(address)}
    payload["discount_codes"] = [{"code": c, "amount": "10.00", "type": "percentage"} for c in codes]
    if delivered is not None:
        stamp = delivered.isoformat()
        payload["fulfillments"] = [
            {"id": order_id * 10, "status": "success", "shipment_status": "delivered",
             "created_at": PLACED, "updated_at": stamp}
        ]  # fmt: skip
        payload["fulfillment_status"] = "fulfilled"
        payload["updated_at"] = stamp
    return payload


def referrer_with_code(app, client, *, email: str = "ann@example.com", address: dict[str, Any] = HOME):
    """The referrer's own earlier order (signed webhook, processed), then their code."""
    post(client, "orders/paid", order_payload(5001, email=email, customer_id=7001, address=address))
    process_all(app)
    customer = db.session.scalar(select(Customer).where(Customer.platform_id == "7001"))
    code = get_or_create_code(db.session, customer_store(customer), customer)
    db.session.commit()
    return customer, code


def customer_store(customer: Customer):
    from app.stores.models import Store

    return db.session.get(Store, customer.store_id)


def land(client, code: str, headers: dict[str, str] | None = None) -> ReferralInvite:
    """The friend opens the share link and presses "Get my code" (the POST that makes the invite)."""
    headers = headers or {"User-Agent": "FriendBrowser/1.0"}
    assert client.get(f"/ref/{code}", headers=headers).status_code == 200
    answer = client.post(f"/ref/{code}", headers=headers)
    assert answer.status_code == 200
    db.session.expire_all()
    return db.session.scalars(select(ReferralInvite).order_by(ReferralInvite.id.desc())).first()


def referrals() -> list[Referral]:
    db.session.expire_all()
    return list(db.session.scalars(select(Referral).order_by(Referral.id)))


def reward_rows() -> list[PointsLedger]:
    return list(db.session.scalars(select(PointsLedger).where(PointsLedger.source_key.like("referral:%"))))


@pytest.fixture
def woo(app, monkeypatch):
    """A WooCommerce stand-in store on loopback (its coupons are what the store holds)."""
    site = WooStandin().start()
    monkeypatch.setitem(app.config, "WOO_API_TIMEOUT_SECONDS", 0.8)
    yield site
    site.stop()


def woo_store(site):
    key, secret = site.add_key()
    store = add_store(
        db.session, secret_box(), "woocommerce", site.url, {"consumer_key": key, "consumer_secret": secret}
    )
    db.session.add(WooStoreState(store_id=store.id, api_url=site.url, webhooks={}))  # as the wc-auth connect does
    db.session.commit()
    return store


def code_for_a_customer(store) -> str:
    customer = Customer(store_id=store.id, platform_id="7001", email="ann@example.com", email_key="ann@example.com")
    db.session.add(customer)
    db.session.flush()
    code = get_or_create_code(db.session, store, customer).code
    db.session.commit()
    return code
