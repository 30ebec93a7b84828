"""A shopper's words to the merchant are personal data: customers/redact erases them from the support rows, from
the outbox rows that carried them (whose customer_id is empty: the merchant is their recipient) and from the
file channel's .eml copies; shop/redact deletes the store's rows; a guest's messages follow them into an account.

Through the real path: the form, the scheduler tick and the send job, the privacy webhooks, the compliance job.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.compliance.models import ComplianceRequest
from app.extensions import db
from app.messaging.models import Message
from app.records.customers import merge_into
from app.records.models import Customer
from app.stores.models import Store
from app.support import HELP, ShopperMessage, SupportMessage, record
from tests.compliance.conftest import find_in_any_table, run_requests, send
from tests.helpers import SHOP, add_store, process_all
from tests.support.conftest import review_links, tick

WORDS = "My neighbour Jadwiga Kowalska signed for it at Lipowa 7"
LATER = "Also the lid is missing"
OWNER = "owner@shop.example"


@pytest.fixture
def mail_dir(app, monkeypatch, tmp_path) -> Path:
    """The file channel (no SMTP_HOST) writing into a folder of this test."""
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path / "mail"))
    return tmp_path / "mail"


def _files_with(folder: Path, needle: str) -> list[str]:
    import email
    import email.policy

    found = []
    for path in folder.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        text = "\n".join(str(p.get_content()) for p in message.walk() if not p.is_multipart())
        if needle in text:
            found.append(path.name)
    return found


def _redact(client, customer_id: int, email_address: str, orders: list[int]) -> None:
    payload = {"shop_id": 954889, "shop_domain": SHOP, "orders_to_redact": orders}
    payload["customer"] = {"id": customer_id, "email": email_address, "phone": None}
    send(client, "customers/redact", payload)


def test_customer_redact_erases_the_words_everywhere_they_went(app, client, ctx, mail_clock, mail_dir):
    store = add_store()
    store.contact_email = OWNER
    db.session.commit()
    help_path, _ = review_links(app, client, mail_clock)
    assert client.post(help_path, data={"message": WORDS}).status_code == 200
    tick(app)
    assert len(_files_with(mail_dir, WORDS)) == 1  # the merchant's copy, as the file channel wrote it
    assert client.post(help_path, data={"message": LATER}).status_code == 200  # queued, not yet sent
    bystander = record(
        db.session, store, ShopperMessage(kind=HELP, source_key="other", body="Bystander words"), mail_clock.now
    )
    db.session.commit()

    _redact(client, 7001, "ola@example.pl", [9001])
    process_all(app)
    assert run_requests(app) == ["completed"]

    db.session.expire_all()
    assert find_in_any_table([WORDS.lower(), LATER.lower()]) == []
    assert _files_with(mail_dir, WORDS) == []
    ours = db.session.scalars(select(SupportMessage).where(SupportMessage.customer_id.is_not(None))).all()
    assert [(m.body, m.source_key) for m in ours] == [(None, f"redacted:{m.id}") for m in ours] and len(ours) == 2
    mails = db.session.scalars(select(Message).where(Message.dedupe_key.like("support:%")).order_by(Message.id))
    assert [(m.status, m.context) for m in mails if m.dedupe_key != f"support:{bystander.id}:0"] == [
        ("sent", None),
        ("cancelled", None),  # the second was never sent: nobody gets the words now
    ]
    assert db.session.get(SupportMessage, bystander.id).body == "Bystander words"  # another shopper's stay
    redact = db.session.scalar(select(ComplianceRequest).where(ComplianceRequest.topic == "customers/redact"))
    assert (redact.summary["support_messages"], redact.summary["support_mail_forgotten"]) == (2, 2)


def test_a_data_request_exports_the_customers_messages(app, client, ctx, mail_clock):
    add_store()
    help_path, _ = review_links(app, client, mail_clock)
    assert client.post(help_path, data={"message": WORDS}).status_code == 200
    payload = {"shop_id": 954889, "shop_domain": SHOP, "orders_requested": [9001], "data_request": {"id": 77}}
    payload["customer"] = {"id": 7001, "email": "ola@example.pl", "phone": None}
    send(client, "customers/data_request", payload)
    process_all(app)
    assert run_requests(app) == ["completed"]
    db.session.expire_all()
    request = db.session.scalar(select(ComplianceRequest).where(ComplianceRequest.topic == "customers/data_request"))
    assert [row["body"] for row in request.export["other"]["support_messages"]] == [WORDS]


def test_shop_redact_deletes_the_stores_messages(app, client, ctx, mail_clock, mail_dir):
    store = add_store()
    other = add_store(domain="other-shop.myshopify.com")
    help_path, _ = review_links(app, client, mail_clock)
    assert client.post(help_path, data={"message": WORDS}).status_code == 200
    record(db.session, other, ShopperMessage(kind=HELP, source_key="k", body="Other store"), mail_clock.now)
    db.session.commit()
    store_id, other_id = store.id, other.id

    send(client, "app/uninstalled", {"id": 1})
    send(client, "shop/redact", {"shop_id": 954889, "shop_domain": SHOP})
    process_all(app)
    db.session.get(Store, store_id).installed_at -= timedelta(days=4)  # shop/redact comes 48 h after uninstalling
    db.session.commit()
    assert run_requests(app) == ["completed"]

    db.session.expire_all()
    assert db.session.scalars(select(SupportMessage.store_id)).all() == [other_id]
    assert find_in_any_table([WORDS.lower()]) == []


def test_a_guests_messages_follow_them_into_their_account(app, ctx, mail_clock):
    store = add_store()
    guest = Customer(store_id=store.id, email="g@example.com", email_key="g@example.com")
    account = Customer(store_id=store.id, platform_id="7001", email="a@example.com", email_key="a@example.com")
    db.session.add_all([guest, account])
    db.session.flush()
    message = ShopperMessage(kind=HELP, source_key="guest", body="As a guest", customer_id=guest.id)
    row = record(db.session, store, message, mail_clock.now)
    db.session.commit()
    merge_into(db.session, store, guest=guest, account=account)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(SupportMessage, row.id).customer_id == account.id
