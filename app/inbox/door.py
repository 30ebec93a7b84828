"""The WSGI door: POST /webhooks/shopify and /webhooks/woocommerce answered before Flask.

Every webhook is acknowledged here, so this is the hottest path we have. A
Flask request costs more than the whole rest of the acknowledgement apart
from the insert: the request context, URL matching, the cookie session (the
app has a SECRET_KEY, so every request unsigns an empty cookie), a Request
and a Response object. The door does only what the answer needs: it reads
the body once from wsgi.input by its Content-Length (refusing bodies over
MAX_CONTENT_LENGTH with 413, as Flask does), pushes an app context (the
store cache, the database and Redis live behind current_app), and runs the
same decision functions as the Flask views (routes.py), so every answer is
the views' answer. Any other method or path goes on to Flask unchanged.

WSGI: https://peps.python.org/pep-3333/ (CONTENT_LENGTH, wsgi.input;
wsgi.input_terminated is the gunicorn/werkzeug extension for chunked bodies).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache
from typing import Any

from flask import Flask

from app.inbox.routes import ANSWER_NAMES, Answer, count_answer, shopify_answer, woocommerce_answer

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_STATUS = {200: "200 OK", 400: "400 Bad Request", 401: "401 Unauthorized", 404: "404 Not Found"}
_STATUS |= {413: "413 Request Entity Too Large", 500: "500 Internal Server Error", 503: "503 Service Unavailable"}
_TOO_LARGE = Answer(413, b'{"status": "body too large"}')
_INCOMPLETE = Answer(400, b'{"status": "incomplete body"}')
_ERROR = Answer(500, b'{"status": "internal error"}')
ANSWER_NAMES.update({_TOO_LARGE: "too_large", _INCOMPLETE: "incomplete_body", _ERROR: "error"})


@cache
def _environ_key(name: str) -> str:
    key = name.upper().replace("-", "_")
    return key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key


class EnvironHeaders(Mapping[str, str]):
    """Request headers read straight from the WSGI environ (case-insensitive, as in HTTP)."""

    __slots__ = ("environ",)

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ

    def __getitem__(self, name: str) -> str:
        return self.environ[_environ_key(name)]

    def get(self, name: str, default: Any = None) -> Any:  # the only call the connectors make
        return self.environ.get(_environ_key(name), default)

    def __iter__(self) -> Iterator[str]:
        return (key[5:].replace("_", "-").title() for key in self.environ if key.startswith("HTTP_"))

    def __len__(self) -> int:
        return sum(1 for key in self.environ if key.startswith("HTTP_"))


def read_body(environ: dict[str, Any], limit: int | None) -> bytes | Answer:
    """The body by its Content-Length, or the answer refusing it (413 over limit, 400 cut short)."""
    stream = environ["wsgi.input"]
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        length = -1
    if length < 0:
        # No usable length: only a server that ends the stream itself (chunked) gives a body, as in werkzeug.
        if not environ.get("wsgi.input_terminated"):
            return b""
        body = stream.read() if limit is None else stream.read(limit + 1)
        return _TOO_LARGE if limit is not None and len(body) > limit else body
    if limit is not None and length > limit:
        return _TOO_LARGE
    body = stream.read(length)
    return body if len(body) == length else _INCOMPLETE


class WebhookDoor:
    """WSGI middleware in front of app.wsgi_app (installed by app.webhooks.init_app)."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        prefix = "/webhooks"  # the blueprint's url_prefix
        self.routes = {
            f"{prefix}/shopify": ("shopify", shopify_answer),
            f"{prefix}/woocommerce": ("woocommerce", woocommerce_answer),
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        route = self.routes.get(environ.get("PATH_INFO", ""))
        if route is None or environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        platform, handler = route
        app = self.app
        try:
            body = read_body(environ, app.config["MAX_CONTENT_LENGTH"])
            if isinstance(body, Answer):
                answer = body
            else:
                with app.app_context():
                    answer = handler(EnvironHeaders(environ), body)
        except Exception:
            propagate = app.config["PROPAGATE_EXCEPTIONS"]
            if propagate or (propagate is None and (app.testing or app.debug)):
                raise
            log.exception("webhook.error")  # the traceback only: no headers or body
            answer = _ERROR
        count_answer(platform, EnvironHeaders(environ), answer)
        headers = [("Content-Length", str(len(answer.body)))]
        headers.append(("Content-Type", "application/json" if answer.body else "text/html; charset=utf-8"))
        if answer.retry_after:
            headers.append(("Retry-After", "5"))
        start_response(_STATUS[answer.status], headers)
        return [answer.body]
