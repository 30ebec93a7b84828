"""Errors a connector raises; the webhook route maps each one to an HTTP status."""


class ConnectorError(Exception):
    """Base of every connector error."""


class InvalidSignature(ConnectorError):
    """The HMAC header is missing or does not match the raw body (HTTP 401)."""


class MalformedPayload(ConnectorError):
    """The body is not the JSON object the topic promises (HTTP 400)."""


class UnsupportedTopic(ConnectorError):
    """A topic we do not subscribe to; acknowledged and dropped, never retried."""


class UnknownPlatform(ConnectorError):
    """No connector is registered under that platform name."""


class RateLimited(ConnectorError):
    """The platform throttled a write-back; retry after `retry_after` seconds."""

    def __init__(self, message: str = "rate limited", retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreUnavailable(ConnectorError):
    """The store did not answer or answered 5xx; retry later."""


class StoredDifferently(ConnectorError):
    """The store accepted a write but what it answers it stored differs from what we sent (a field silently
    dropped, rounded or rewritten); `fields` names them. Retrying the same input gets the same answer."""

    def __init__(self, what: str, fields: dict[str, tuple[object, object]]) -> None:
        shown = "; ".join(f"{name}: sent {sent!r}, stored {stored!r}" for name, (sent, stored) in fields.items())
        super().__init__(f"{what}: stored differently: {shown}")
        self.fields = fields
