"""List-Unsubscribe as the SMTP server receives it: the raw DATA bytes, not the parsed header (issue 18).

RFC 2369 list headers carry URLs in angle brackets. Python's e-mail policy folds a header line longer
than 78 characters, and a URL has no whitespace to fold at, so it was turned into RFC 2047
encoded-words (`=?utf-8?q?=3Chttps...`). A parser decodes those back, which is why the parsed header
looked right; mail clients do not, and offer no one-click unsubscribe (RFC 8058).
"""

from __future__ import annotations

import pytest
from sqlalchemy import update

from app.extensions import db
from app.messaging import unsubscribe_url
from app.messaging.models import Message
from app.stores.models import Store
from tests.helpers import add_store
from tests.messaging.test_messaging import deliver_all, enqueue

LONG_APP_URL = "https://post-purchase-engine.customer-retention.example-hosting-provider.example/tenants/eu-central-1"
LONG_STORE_ID = 2_147_483_000  # near the top of a PostgreSQL integer key (stores.id): a long number in the token


def _header_fields(raw: bytes) -> dict[str, list[bytes]]:
    """Field name (lower case) -> its physical lines as sent (first line, then folded continuation lines)."""
    head, separator, _ = raw.partition(b"\r\n\r\n")
    assert separator, "no header/body separator on the wire"
    fields: list[list[bytes]] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            fields[-1].append(line)
        else:
            fields.append([line])
    return {lines[0].partition(b":")[0].decode().lower(): lines for lines in fields}


def _assert_plain_list_headers(raw: bytes, link: str) -> None:
    fields = _header_fields(raw)
    lines = fields["list-unsubscribe"]
    sent = b"\r\n".join(lines).decode("ascii")
    assert b"=?" not in b"".join(lines), f"List-Unsubscribe is RFC 2047-encoded on the wire:\n{sent}"
    # Unfolding (RFC 5322 section 2.2.3: remove the CRLF before whitespace) gives back the URL in brackets.
    name, _, value = b"".join(lines).decode("ascii").partition(":")
    assert (name, value.strip()) == ("List-Unsubscribe", f"<{link}>"), sent
    # Folded, if at all, only at whitespace outside the brackets: the URL is whole on one physical line.
    assert any(f"<{link}>".encode() in line for line in lines), sent
    assert all(len(line) <= 998 for line in lines), "RFC 5322 section 2.1.1: at most 998 characters a line"
    post = fields["list-unsubscribe-post"]
    assert post == [b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"], post


@pytest.mark.parametrize("long_url", [False, True], ids=["default-url", "long-url"])
def test_list_unsubscribe_goes_out_as_a_plain_url(app, ctx, smtp_wire, mail_clock, monkeypatch, long_url):
    if long_url:
        monkeypatch.setitem(app.config, "APP_URL", LONG_APP_URL)
    store = add_store(name="Sklep Ceramiki")
    if long_url:  # a store id of many digits makes the signed token longer too (no rows refer to it yet)
        db.session.execute(update(Store).where(Store.id == store.id).values(id=LONG_STORE_ID))
        db.session.commit()
        store = db.session.get(Store, LONG_STORE_ID)
    enqueue(store, locale="pl")
    deliver_all(app)
    assert len(smtp_wire.raw) == 1
    link = unsubscribe_url(store, "ola@example.com", "pl")
    assert len(f"List-Unsubscribe: <{link}>") > 78  # longer than the policy's fold width either way
    _assert_plain_list_headers(smtp_wire.raw[0], link)
    # The parsed view still reads the same link (what the unsubscribe round-trip test follows).
    assert smtp_wire.messages[0][2]["List-Unsubscribe"] == f"<{link}>"


def test_a_link_too_long_for_a_header_line_fails_the_message(app, ctx, smtp_wire, mail_clock, monkeypatch):
    """Over RFC 5322's 998 characters a line there is no valid way to send it: failed, never sent mangled."""
    monkeypatch.setitem(app.config, "APP_URL", "https://example.com/" + "p" * 1000)
    message_id = enqueue(add_store())
    deliver_all(app)
    db.session.expire_all()
    row = db.session.get(Message, message_id)
    assert (row.status, row.last_error) == ("failed", "render: ValueError")
    assert smtp_wire.raw == []
