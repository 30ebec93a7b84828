"""Per-channel consent and phones as the platforms send them, parsed by the connectors and kept on the customer."""

from __future__ import annotations

from app.records.phones import to_e164
from connectors.consent import marketing_state, woo_opt_ins
from connectors.shopify_snapshots import customer_snapshot, order_snapshot
from tests.helpers import fixture_json


def test_shopify_sms_consent_states_and_the_orders_phone():
    assert [marketing_state(s) for s in ("subscribed", "not_subscribed", "unsubscribed", "pending", "redacted")] == [
        True, None, False, None, None,
    ]  # fmt: skip
    customer = {"id": 1, "email": "a@example.com", "phone": None,
                "sms_marketing_consent": {"state": "subscribed", "opt_in_level": "single_opt_in"},
                "email_marketing_consent": {"state": "unsubscribed"}}  # fmt: skip
    snap = customer_snapshot(customer, fallback_phone="601 234 567", fallback_country="PL")
    assert (snap.sms_marketing_consent, snap.accepts_marketing) == (True, False)
    assert (snap.phone, snap.phone_country) == ("601 234 567", "PL")
    assert to_e164(snap.phone, snap.phone_country) == "+48601234567"
    order = fixture_json("shopify", "orders_create")
    order["phone"] = "+36 30 123 4567"
    assert order_snapshot(order).customer.phone in ("+36 30 123 4567", order["customer"].get("phone"))


def test_woocommerce_opt_in_meta():
    meta = [
        {"id": 1, "key": "_ppe_sms_opt_in", "value": "yes"},
        {"id": 2, "key": "_ppe_whatsapp_opt_in", "value": "0"},
        {"id": 3, "key": "_ppe_preferred_channel", "value": "SMS"},
        {"id": 4, "key": "other", "value": "yes"},
    ]
    assert woo_opt_ins(meta) == {"sms_consent": True, "whatsapp_consent": False, "preferred_channel": "sms"}
    assert woo_opt_ins(None) == {} and woo_opt_ins([{"key": "_ppe_sms_opt_in", "value": "maybe"}]) == {}


def test_records_keep_e164_and_consent(app, ctx):
    from app.extensions import db
    from app.records.customers import resolve_customer
    from connectors.events import CustomerSnapshot
    from tests.helpers import add_store

    store = add_store()
    snap = CustomerSnapshot(platform_id="77", email="k@example.com", phone="8 701 123 4567", phone_country="KZ",
                            sms_marketing_consent=True, whatsapp_consent=True)  # fmt: skip
    customer = resolve_customer(db.session, store, snap)
    db.session.commit()
    assert (customer.phone_e164, customer.sms_marketing_consent, customer.whatsapp_consent) == (
        "+77011234567",
        True,
        True,
    )
    bad = CustomerSnapshot(platform_id="78", email="x@example.com", phone="12345", phone_country=None)
    assert resolve_customer(db.session, store, bad).phone_e164 is None
