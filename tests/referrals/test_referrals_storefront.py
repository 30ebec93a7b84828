"""GET /me/referral (a logged-in customer's code, created on demand) and the connectors' new order fields that the
fraud checks and attribution read (shipping address, phone, payment fingerprint, landing token)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.records.models import Customer
from app.referrals.models import ReferralCode
from app.security import secret_box
from app.storefront.auth import mint_customer_token
from app.stores.storefront_keys import ensure_keys
from connectors.shopify_snapshots import order_snapshot as shopify_snapshot
from connectors.woocommerce_snapshots import order_snapshot as woo_snapshot
from tests.helpers import add_store, fixture_json

NOW = 1_800_000_000.0


def test_me_referral_creates_the_code_once_and_remembers_the_device(app, client, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "STOREFRONT_CLOCK", lambda: NOW)
    store = db.session.merge(add_store("woocommerce", currency="EUR"))
    keys = ensure_keys(db.session, secret_box(), store)
    db.session.commit()
    token = mint_customer_token("woo.example.com", "42", keys.secret, expires_at=int(NOW) + 600)
    headers = {"Authorization": f"Bearer {token}", "User-Agent": "AnnPhone/2"}
    first = client.get("/api/v1/me/referral", headers=headers)
    assert first.status_code == 200, first.text
    again = client.get("/api/v1/me/referral", headers=headers)
    assert again.json == first.json
    assert first.json["share_url"] == f"{app.config['APP_URL'].rstrip('/')}/ref/{first.json['code']}"
    [code] = db.session.scalars(select(ReferralCode)).all()
    customer = db.session.get(Customer, code.customer_id)
    assert customer.platform_id == "42" and code.owner_ip_hash and code.owner_ua_hash
    assert "127.0.0.1" not in (code.owner_ip_hash or "")  # a keyed hash, not the address
    assert client.get("/api/v1/me/referral", headers={"X-PPE-Store": keys.public_key}).status_code == 401


def test_connectors_carry_address_phone_payment_and_token():
    payload = fixture_json("shopify", "orders_create")
    payload["note_attributes"] = [{"name": "_ppe_ref", "value": "tok.en"}]
    payload["payment_details"] = {
        "credit_card_bin": "424242", "credit_card_number": "•••• •••• •••• 4242", "credit_card_company": "Visa",
    }  # fmt: skip
    snap = shopify_snapshot(payload)
    assert snap.shipping_address.address1 == "123 Shipping Street" and snap.shipping_address.zip == "40003"
    assert snap.referral_token == "tok.en" and len(snap.payment_fingerprint) == 64
    del payload["payment_details"]
    assert shopify_snapshot(payload).payment_fingerprint is None  # only when the payload exposes it

    order = fixture_json("woocommerce", "order")
    order["meta_data"] = [*order["meta_data"], {"id": 1, "key": "_ppe_ref", "value": "tok.en"}]
    snap = woo_snapshot(order)
    assert (snap.shipping_address.address1, snap.shipping_address.zip) == ("969 Market", "94103")
    assert snap.phone == "(555) 555-5555" and snap.referral_token == "tok.en" and snap.payment_fingerprint is None
    order["meta_data"].append({"id": 2, "key": "_stripe_source_id", "value": "src_123"})
    assert woo_snapshot(order).payment_fingerprint is not None
