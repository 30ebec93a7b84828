"""Tracking numbers and links are personal data (they lead to the parcel's address and recipient at the carrier):
a data request exports them with the customer's parcels, and what the delivery journey decided for each parcel;
customers/redact leaves them nowhere (the fulfilment rows, the delivery update's message, the raw deliveries),
keeps the carrier and the dates, and leaves a bystander's parcel as it was. No log line carries them."""

from __future__ import annotations

import logging

from sqlalchemy import select

from app.compliance.models import ComplianceRequest
from app.extensions import db
from app.records.models import Fulfillment
from tests.compliance.conftest import CUSTOMER_ID, compliance_payload, find_in_any_table, populate, run_requests, send
from tests.helpers import add_store, process_all
from tests.journeys.conftest import delivery_messages, enable_updates, fulfillment

OURS = ("1z827wk74630", "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=1z827wk74630")
THEIRS = ("1Z5001", "https://www.ups.com/track?tracknum=1Z5001")


def test_tracking_is_exported_then_erased_and_never_logged(app, client, ctx, caplog):
    caplog.set_level(logging.DEBUG)
    enable_updates(add_store("shopify"))
    db.session.remove()
    populate(client)  # our customer's parcel 6001 (the documented payload's tracking) and a bystander's order
    send(client, "fulfillments/create", fulfillment(5001, 5001, tracking_urls=[THEIRS[1]]))  # the bystander's parcel
    send(client, "customers/data_request", compliance_payload("customers_data_request"))
    process_all(app)
    assert sorted(delivery_messages(app)) == [("5001", "shipped"), ("6001", "shipped")]
    assert run_requests(app) == ["completed"]

    db.session.expire_all()
    export = db.session.scalar(select(ComplianceRequest)).export
    orders = {o["platform_id"]: o for o in export["orders"]}
    [parcel] = orders["280263"]["fulfillments"]
    assert (parcel["tracking_number"], parcel["tracking_url"]) == OURS
    updates = orders["280263"]["delivery_updates"]
    assert [(u["fulfillment_platform_id"], u["state"], u["outcome"]) for u in updates] == [("6001", "shipped", "sent")]
    assert orders["299938"]["delivery_updates"] == []
    assert THEIRS[0] not in str(export)

    send(client, "customers/redact", compliance_payload("customers_redact"))
    process_all(app)
    assert run_requests(app) == ["completed", "completed"]
    db.session.expire_all()
    assert find_in_any_table([OURS[0].lower(), OURS[1].lower()]) == []
    parcels = {f.platform_id: f for f in db.session.scalars(select(Fulfillment))}
    ours, theirs = parcels["6001"], parcels["5001"]
    assert (ours.tracking_number, ours.tracking_url, ours.tracking_company) == (None, None, "UPS")
    assert ours.shipped_at is not None and ours.status == "success"  # the parcel's facts stay
    assert (theirs.tracking_number, theirs.tracking_url) == THEIRS
    redact = db.session.scalar(select(ComplianceRequest).where(ComplianceRequest.topic == "customers/redact"))
    assert redact.summary["erased"]["fulfillments"] == 1 and redact.customer_platform_id == str(CUSTOMER_ID)

    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records).lower()
    for value in (*OURS, *THEIRS):
        assert value.lower() not in logged


def test_a_late_fulfilment_update_after_the_redaction_does_not_bring_the_tracking_back(app, client, ctx):
    """Shopify keeps sending fulfilments/update for an order after customers/redact (a carrier's correction, a
    retried delivery): the parcel's facts move on, its tracking number and link stay erased, a bystander's
    parcel updated the same way keeps its own."""
    add_store("shopify")
    db.session.remove()
    populate(client)
    send(client, "fulfillments/create", fulfillment(5001, 5001, tracking_urls=[THEIRS[1]]))
    send(client, "customers/redact", compliance_payload("customers_redact"))
    process_all(app)
    assert run_requests(app) == ["completed"]
    late = fulfillment(280263, 6001, tracking_number=OURS[0], tracking_numbers=[OURS[0]], tracking_url=OURS[1])
    late.update(shipment_status="delivered", updated_at="2026-11-05T09:00:00Z")
    theirs = fulfillment(5001, 5001, tracking_number="1Z5002", tracking_numbers=["1Z5002"])
    theirs.update(updated_at="2026-11-05T09:00:00Z", tracking_url="https://www.ups.com/track?tracknum=1Z5002")
    send(client, "fulfillments/update", late)
    send(client, "fulfillments/update", theirs)
    process_all(app)
    db.session.expire_all()
    parcels = {f.platform_id: f for f in db.session.scalars(select(Fulfillment))}
    assert (parcels["6001"].tracking_number, parcels["6001"].tracking_url) == (None, None)
    assert parcels["6001"].delivered_at is not None  # the update itself was applied
    assert parcels["5001"].tracking_number == "1Z5002"


def test_a_late_order_update_of_an_erased_account_is_applied_while_the_tombstone_stays(app, client, ctx):
    """The tombstone guard erases the account again with a Core UPDATE; what the same batch had not yet flushed
    (this order's new facts, another store's order) must not be dropped by it."""
    from app.records.models import Customer, Order
    from tests.compliance.conftest import CUSTOMER_ID, EMAIL
    from tests.helpers import shopify_order

    add_store("shopify")
    db.session.remove()
    populate(client)
    send(client, "customers/redact", compliance_payload("customers_redact"))
    process_all(app)
    assert run_requests(app) == ["completed"]
    late = shopify_order(280263, email=EMAIL, customer_id=CUSTOMER_ID, total="30.50")
    late.update(updated_at="2026-12-01T10:00:00Z", cancelled_at="2026-12-01T10:00:00Z", cancel_reason="customer")
    send(client, "orders/updated", late)
    process_all(app)
    db.session.expire_all()
    order = db.session.scalar(select(Order).where(Order.platform_id == "280263"))
    assert order.cancelled_at is not None  # the update was applied
    account = db.session.scalar(select(Customer).where(Customer.platform_id == str(CUSTOMER_ID)))
    assert account.email is None and account.first_name is None
