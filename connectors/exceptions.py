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


def detached(exc: ConnectorError) -> ConnectorError:
    """`exc`, and every exception it was raised from or during, without their tracebacks: for an error kept as a
    value (LoyaltyWrite.error, writeback.py). A traceback holds each frame the error passed through, and each frame
    its caller (f_back) up to whoever keeps the result, so that caller's frame and the error form a reference cycle:
    freed only by the cyclic GC, which a worker runs rarely (app/platform/jobs.py, _tune_gc), and with it every
    object of those frames, e.g. a failed Shopify call's HTTPSConnection and its SSL context (about 0.85 MB of
    OpenSSL memory each, unseen by the GC's counts). bench/README.md, "bench/worker_jobs.py"."""
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
    return exc
