"""A real SMTP server on loopback (aiosmtpd) and a controllable clock for the e-mail tests."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Recorder:
    """aiosmtpd handler: keeps every accepted message; `script` answers chosen RCPT codes first."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []
        self.rcpt_replies: list[str] = []  # e.g. ["451 4.3.0 try later"], consumed one per RCPT
        self.port = 0  # set by the smtp fixture once the server listens

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, options):  # noqa: N802
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"


class LoopbackSMTP(Controller):
    """Controller on 127.0.0.1 port 0: the port the OS picked is read back before the self-test connection."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2027, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def parts(message: EmailMessage) -> tuple[str, str]:
    """(text, html) of a multipart/alternative message."""
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def review_context(base: str = "https://reviews.example/r") -> dict:
    return {
        "first_name": "Ola",
        "products": [
            {
                "title": f"Mug {n}",
                "image_url": f"https://cdn.example/{n}.png",
                "star_urls": [f"{base}/{n}/{s}" for s in range(1, 6)],
            }
            for n in (1, 2)
        ],
        "help_url": "https://help.example/order/1001",
    }


def _relay(app, monkeypatch, recorder):
    """A real SMTP server on 127.0.0.1 (aiosmtpd) recording into `recorder`, configured as the app's relay."""
    controller = LoopbackSMTP(recorder, hostname="127.0.0.1", port=0)
    controller.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", controller.port)
    monkeypatch.setitem(app.config, "SMTP_SECURITY", "none")
    recorder.port = controller.port
    yield recorder
    controller.stop()


@pytest.fixture
def smtp(app, monkeypatch):
    """A real SMTP server on 127.0.0.1 (aiosmtpd), configured as the app's relay; yields what it received."""
    yield from _relay(app, monkeypatch, Recorder())


@pytest.fixture
def mail_clock(app, monkeypatch):
    """The outbox's clock (MAIL_CLOCK), at 2027-03-01 09:00 UTC until a test advances it."""
    value = Clock()
    monkeypatch.setitem(app.config, "MAIL_CLOCK", value)
    return value


class WireRecorder(Recorder):
    """A Recorder that also keeps each message's DATA bytes exactly as the server received them."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.raw.append(envelope.original_content or b"")
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp_wire(app, monkeypatch):
    """The `smtp` server with a WireRecorder: `.raw` holds the bytes on the wire (headers unparsed, CRLF kept)."""
    yield from _relay(app, monkeypatch, WireRecorder())


# The shopper's pages (the review form, get help, unsubscribe, the referral landing): one store with its brand,
# an order with a product the catalogue knows (a picture at the store's CDN), its review request and a referral
# code. tests/messaging/test_shopper_pages*.py and tests/reviews/test_review_pages.py use it.
BRAND = {"primary_color": "#7b2d8e", "logo_url": "https://cdn.shop.example/logo.png"}
PRODUCT_IMAGE = "https://cdn.shop.example/mug.png"


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG (the logo and the product picture the browser tests serve for the store's CDN)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def seed_shopper_pages(brand: dict | None = None, locale: str = "en", name: str = "Kalina Ceramics") -> dict:
    """Paths of each page (for `locale`) and the rows behind them. Needs an app context."""
    from urllib.parse import urlsplit

    from app.extensions import db
    from app.messaging import unsubscribe_url
    from app.records.models import Customer, Order, Product
    from app.referrals.service import get_or_create_code
    from app.referrals.settings import update_settings
    from app.reviews.links import help_token, order_token, star_token
    from app.reviews.models import ReviewRequest
    from tests.helpers import add_store

    store = add_store(currency="EUR")
    store.name = name
    store.settings = {**(store.settings or {}), "branding": BRAND if brand is None else brand}
    update_settings(db.session, store, {"enabled": True})
    now = datetime.now(UTC)
    customer = Customer(store_id=store.id, email_key="ann@example.com", platform_id="7001")
    db.session.add(customer)
    db.session.flush()
    items = [{"product_id": "111", "title": "Mug", "quantity": 1, "price": "18.00"}]
    order = Order(store_id=store.id, platform_id="9001", customer_id=customer.id, name="#1001", currency="EUR",
                  total_price=Decimal("18.00"), subtotal_price=Decimal("18.00"), line_items=items, placed_at=now,
                  platform_updated_at=now)  # fmt: skip
    product = Product(store_id=store.id, product_id="111", found=True, title="Stoneware mug, speckled glaze",
                      image_url=PRODUCT_IMAGE, url="https://shop.example/products/mug", fetched_at=now)  # fmt: skip
    request = ReviewRequest(store_id=store.id, order_platform_id="9001", customer_id=customer.id)
    request.status = "sent"
    db.session.add_all([order, product, request])
    db.session.flush()
    code = get_or_create_code(db.session, store, customer)
    db.session.commit()
    return {
        "store_id": store.id,
        "request_id": request.id,
        "review": f"/r/{star_token(store.id, request.id, '111', 4, locale)}",
        "help": f"/r/help/{help_token(store.id, request.id, locale)}",
        "order": f"/r/order/{order_token(store.id, '9001', locale)}",  # the parcel card's QR code
        "unsubscribe": urlsplit(unsubscribe_url(store, "ann@example.com", locale)).path,
        "landing": f"/ref/{code.code}",
    }
