"""How the commands that talk to a running service over HTTP (`flask demo`, `flask webhooks send`) find out, in
seconds, that nothing answers there.

requests has no timeout unless given one, and a single number is both the connect and the read timeout
(https://requests.readthedocs.io/en/latest/user/advanced/#timeouts). A connect attempt to an address where no
host answers (a firewall that drops packets, a host that is down, a listener whose queue is full) waits the
whole timeout; `flask demo`, which retries each delivery, once spent about 55 minutes that way before it said
anything. So: a short connect timeout (a service on the same network completes the TCP handshake in
milliseconds; 3 s also covers one lost SYN, whose first retransmission comes after 1 s), a longer read timeout
(the service may be busy), and one plain request to /healthz before any real work, ended by a message that says
what did not answer and how.
"""

from __future__ import annotations

import requests

#: Seconds to wait for the TCP connection to the service.
CONNECT_TIMEOUT = 3.0
#: Seconds to wait for each read of an answer (webhook requests commit to the database before answering).
READ_TIMEOUT = 30.0
TIMEOUTS = (CONNECT_TIMEOUT, READ_TIMEOUT)
#: The health check is a plain liveness answer: it needs no database, so it is quick or broken.
CHECK_TIMEOUTS = (CONNECT_TIMEOUT, 10.0)


class Unreachable(Exception):
    """The service at a URL does not answer, or is not ours; the message says which, for the operator."""


def explain(url: str, exc: requests.RequestException) -> str:
    """One line for an operator: what failed at `url`, in words rather than a traceback."""
    if isinstance(exc, requests.ConnectTimeout):
        return (
            f"{url}: no connection within {CONNECT_TIMEOUT:g} s (nothing answers at that address: "
            "is the service running there, and reachable from here?)"
        )
    if isinstance(exc, requests.ReadTimeout):
        return f"{url}: connected, but no answer within the read timeout (the service is stuck or overloaded)"
    if isinstance(exc, requests.ConnectionError):
        return f"{url}: cannot connect ({_reason(exc)})"
    return f"{url}: {type(exc).__name__}"


def check_service(base_url: str, session: requests.Session | None = None) -> None:
    """Raise Unreachable unless GET {base_url}/healthz answers our liveness JSON within seconds."""
    url = f"{base_url.rstrip('/')}/healthz"
    try:
        response = (session or requests).get(url, timeout=CHECK_TIMEOUTS)
    except requests.RequestException as exc:
        raise Unreachable(explain(url, exc)) from exc
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict) or body.get("status") != "ok":
        raise Unreachable(f"{url}: answered HTTP {response.status_code}, not the service's health check (wrong URL?)")


def _reason(exc: requests.ConnectionError) -> str:
    """The innermost cause's words (urllib3 wraps the OSError twice): "Connection refused", "Name or service..."."""
    cause: BaseException = exc
    while (inner := cause.__cause__ or cause.__context__) is not None:
        cause = inner
    return cause.strerror if isinstance(cause, OSError) and cause.strerror else type(cause).__name__
