"""Erasure reaches the .eml copies of the file channel (issue 18): the embedded default writes every outgoing
message under MAIL_DIR, so customers/redact must delete the erased customer's files, and shop/redact the store's.

Through the real path: messages are enqueued and delivered by the scheduler step and the send job, the
privacy request is posted to the webhook route, the inbox is drained and the compliance job runs.
"""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.compliance.models import ComplianceRequest
from app.extensions import db
from app.messaging import enqueue_message
from app.records.models import Customer
from app.stores.models import Store
from tests.compliance.conftest import CUSTOMER_ID, EMAIL, FIRST, LAST, compliance_payload, populate, run_requests, send
from tests.helpers import SHOP, add_store, process_all
from tests.messaging.conftest import review_context
from tests.messaging.test_messaging import deliver_all

OTHER_SHOP = "other-shop.myshopify.com"
BYSTANDER = "bystander@example.com"  # the other customer populate() creates (platform id 7001)


@pytest.fixture
def mail_dir(app, monkeypatch, tmp_path) -> Path:
    """The file channel (no SMTP_HOST) writing into a folder of this test."""
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path / "mail"))
    return tmp_path / "mail"


def _mail_to(store: Store, platform_id: str, key: str) -> None:
    customer = db.session.scalar(
        select(Customer).where(Customer.store_id == store.id, Customer.platform_id == platform_id)
    )
    context = {**review_context(), "first_name": customer.first_name or "there"}
    enqueue_message(
        db.session, store, template="review_request", to=customer.email, locale="en", context=context,
        dedupe_key=key, customer_id=customer.id,
    )  # fmt: skip
    db.session.commit()


def _readable(path: Path) -> str:
    """A file's bytes and its decoded parts (a body may be quoted-printable or base64), lower-cased."""
    raw = path.read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    parts = [part.get_content() for part in message.walk() if not part.is_multipart()]
    return "\n".join([raw.decode("utf-8", "replace"), str(message), *map(str, parts)]).lower()


def _files_naming(folder: Path, needles: list[str]) -> dict[str, list[str]]:
    """Every file left in the folder (any name, any depth) -> the needles it contains."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = _readable(path)
        found[path.name] = [n for n in needles if n.lower() in text]
    return found


def _deliver_two(app, client, store: Store) -> None:
    """Review requests to our customer and to the bystander, written as .eml files."""
    _mail_to(store, str(CUSTOMER_ID), "review:ours")
    _mail_to(store, "7001", "review:bystander")
    deliver_all(app)


def test_customer_redact_deletes_the_customers_eml_files_only(app, client, ctx, mail_clock, mail_dir):
    store = add_store("shopify")
    populate(client)
    process_all(app)
    _deliver_two(app, client, store)
    ours = [EMAIL, FIRST, LAST]
    before = _files_naming(mail_dir, [*ours, BYSTANDER])
    assert sorted(map(sorted, before.values())) == sorted([[BYSTANDER], sorted([EMAIL, FIRST])])  # the test sees them

    send(client, "customers/redact", compliance_payload("customers_redact"))
    process_all(app)
    assert run_requests(app) == ["completed"]

    after = _files_naming(mail_dir, [*ours, BYSTANDER])
    assert [name for name, hits in after.items() if set(hits) & set(ours)] == []
    assert list(after.values()) == [[BYSTANDER]]  # the other customer's message stays
    db.session.expire_all()
    redact = db.session.scalar(select(ComplianceRequest).where(ComplianceRequest.topic == "customers/redact"))
    assert redact.summary["mail_files_deleted"] == 1


def test_shop_redact_deletes_the_stores_eml_files(app, client, ctx, mail_clock, mail_dir):
    store = add_store("shopify")
    other = add_store("shopify", OTHER_SHOP)
    populate(client)
    populate(client, OTHER_SHOP)
    process_all(app)
    _deliver_two(app, client, store)
    _deliver_two(app, client, other)
    assert len(_files_naming(mail_dir, [])) == 4
    store_id, other_id = store.id, other.id

    send(client, "app/uninstalled", {"id": 1})
    send(client, "shop/redact", compliance_payload("shop_redact"))
    process_all(app)
    # shop/redact comes 48 h after the uninstall; here it is immediate, so the guard must see an old install.
    db.session.get(Store, store_id).installed_at -= timedelta(days=4)
    db.session.commit()
    assert run_requests(app) == ["completed"]

    db.session.expire_all()
    assert db.session.get(Store, store_id) is None and db.session.get(Store, other_id) is not None
    left = _files_naming(mail_dir, [EMAIL, BYSTANDER])
    assert sorted(map(sorted, left.values())) == sorted([[BYSTANDER], [EMAIL]])  # the other store's two messages
    assert SHOP not in "".join(_readable(mail_dir / name) for name in left)
