"""Delivery channels behind one tiny interface: `channel.send(email)` for a built EmailMessage.

SMTP (smtplib) when SMTP_HOST is set; otherwise the file channel, the embedded
zero-setup default, which writes each message as an .eml under instance/mail/
so nothing is lost and a developer can open it in any mail client. Those files
hold addresses and names: privacy erasure deletes them (outbox.erase_mail_files).

Errors are classified for the outbox: `TransientSendError` (connection refused
or dropped, timeouts, 4xx replies: retried with backoff) and
`PermanentSendError` (5xx for the recipient or the content: not retried).
Reply codes: RFC 5321 section 4.2.1 (https://www.rfc-editor.org/rfc/rfc5321#section-4.2.1).
Error text keeps the reply code and class only, never an address.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
from collections.abc import Iterable
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from app.errors import Unavailable


class SendError(Unavailable):
    code = "send_failed"


class TransientSendError(SendError):
    pass


class PermanentSendError(SendError):
    pass


class Channel(Protocol):
    name: str

    def send(self, email: EmailMessage) -> None: ...


class SmtpChannel:
    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            client.starttls(context=context)
        return client

    def send(self, email: EmailMessage) -> None:
        try:
            with self._connect() as client:
                if self.username:
                    client.login(self.username, self.password or "")
                refused = client.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            error = PermanentSendError if all(code >= 500 for code in codes) else TransientSendError
            raise error(f"recipient refused: {codes}") from None
        except smtplib.SMTPResponseException as exc:
            # A 5xx to DATA (content rejected) is permanent for this message; 5xx to MAIL FROM or AUTH is
            # our configuration and may be fixed, so it is retried like an outage.
            permanent = exc.smtp_code >= 500 and isinstance(exc, smtplib.SMTPDataError)
            error = PermanentSendError if permanent else TransientSendError
            raise error(f"{type(exc).__name__} {exc.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timeout, TLS failure
            raise TransientSendError(type(exc).__name__) from None
        if refused:  # some recipients refused; we send one recipient per message, so this is that one
            codes = sorted({code for code, _ in refused.values()})
            raise (PermanentSendError if all(c >= 500 for c in codes) else TransientSendError)(f"refused: {codes}")


class FileChannel:
    """Writes <directory>/<message-id>.eml atomically (a temp file renamed), one file per message.

    The name is the Message-ID made file-safe, and that id comes from the row (app.messaging._message_id:
    `ppe.<store id>.<dedupe key digest>@<domain>`), so privacy erasure finds the file of a message from its
    row (`forget`, customers/redact) and every file of a store by the name's prefix (`forget_store`, shop/redact).
    """

    name = "file"

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def path_for(self, email: EmailMessage) -> Path:
        return self.path_for_id(email["Message-ID"])

    def path_for_id(self, message_id: str | None) -> Path:
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", str(message_id or "message").strip("<>"))
        return self.directory / f"{stem}.eml"

    def forget(self, message_ids: Iterable[str | None]) -> int:
        """Delete the files of these messages (and a temp file a crash left); returns how many .eml went."""
        deleted = 0
        for message_id in filter(None, message_ids):
            path = self.path_for_id(message_id)
            path.with_suffix(".tmp").unlink(missing_ok=True)
            if path.is_file():
                path.unlink(missing_ok=True)
                deleted += 1
        return deleted

    def forget_store(self, store_id: int) -> int:
        """Delete every file of a store (`ppe.<id>.`: the dot ends the number); returns how many .eml went."""
        paths = [p for p in self.directory.glob(f"ppe.{int(store_id)}.*") if p.suffix in (".eml", ".tmp")]
        for path in paths:
            path.unlink(missing_ok=True)
        return sum(p.suffix == ".eml" for p in paths)

    def send(self, email: EmailMessage) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.path_for(email)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(email.as_bytes())
            os.replace(tmp, path)  # a resend after a crash overwrites the same file: one file per message
        except OSError as exc:
            raise TransientSendError(type(exc).__name__) from None


def channel_from_config(config: Any) -> Channel:
    if config.get("SMTP_HOST"):
        return SmtpChannel(
            config["SMTP_HOST"],
            int(config["SMTP_PORT"]),
            security=config.get("SMTP_SECURITY", "starttls"),
            username=config.get("SMTP_USERNAME"),
            password=config.get("SMTP_PASSWORD"),
            timeout=float(config.get("SMTP_TIMEOUT_SECONDS", 10)),
        )
    return FileChannel(config["MAIL_DIR"])
