"""The contract every platform connector implements.

A connector turns one platform's webhook delivery into platform-neutral events
(connectors/events.py) and, in later features, performs write-backs through
that platform's client package. It knows nothing of Flask or the database:
the app hands it raw bytes and headers, and secrets as bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from .events import Event
from .exceptions import InvalidSignature, UnsupportedTopic
from .parsing import JSONObject

#: Dedupe keys are stored in a 191-character column (indexable everywhere).
MAX_KEY_LENGTH = 191


def body_digest(body: bytes) -> str:
    """Fallback identity of a delivery that carries no id: the hash of its exact bytes."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


Parser = Callable[[Any, str], list[Event]]


@dataclass(frozen=True)
class WebhookMeta:
    """What the headers say about a delivery, before the body is trusted."""

    topic: str
    source: str  # Shopify shop domain or WooCommerce site URL, as sent
    delivery_id: str | None  # the platform's stable id for duplicate detection, if any


def base64_hmac_sha256(secret: bytes, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode("ascii")


def verify_base64_hmac(secret: bytes, body: bytes, signature: str | None) -> None:
    """Constant-time check of a base64 HMAC-SHA256 over the raw body.

    Both platforms sign the exact bytes they send, so the body must not be
    re-serialised before this check.
    """
    if not signature or not secret:
        raise InvalidSignature("missing signature")
    expected = base64_hmac_sha256(secret, body).encode("ascii")
    if not hmac.compare_digest(expected, signature.strip().encode("ascii", "replace")):
        raise InvalidSignature("signature mismatch")


class Connector(ABC):
    """Base class: subclasses declare their topic table and a few hooks."""

    platform: ClassVar[str]
    #: topic -> parser; a topic missing here raises UnsupportedTopic.
    topics: ClassVar[Mapping[str, str]]

    @abstractmethod
    def webhook_meta(self, headers: Mapping[str, str]) -> WebhookMeta:
        """Read topic, source and delivery id from the headers."""

    def verify_webhook(self, body: bytes, headers: Mapping[str, str], secret: bytes) -> None:
        verify_base64_hmac(secret, body, headers.get(self.signature_header))

    signature_header: ClassVar[str]

    @abstractmethod
    def dedupe_key(self, meta: WebhookMeta, payload: JSONObject, body: bytes) -> str:
        """A key equal for every delivery of the same platform event, unique otherwise."""

    def supports(self, topic: str) -> bool:
        return topic in self.topics

    def parse_event(self, topic: str, payload: Any) -> list[Event]:
        """Normalise one verified payload. Raises UnsupportedTopic or MalformedPayload."""
        name = self.topics.get(topic)
        if name is None:
            raise UnsupportedTopic(topic)
        parser: Parser = getattr(self, name)
        return parser(payload, topic)
