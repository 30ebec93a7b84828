"""A real SMTP server on loopback (aiosmtpd) and a controllable clock for the e-mail tests."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
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
