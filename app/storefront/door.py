"""The storefront's WSGI door: GETs of `door=True` routes under /api/v1 answered before Flask.

GET /api/v1/me/balance and GET /api/v1/products/<id>/reviews/summary are the widgets' most frequent calls.
Through Flask each paid for a request context, URL matching, a Request and a Response object and the
blueprint's after_request: about as much CPU as the rest of the summary (bench/sfprofile.py). Like the webhook
door (app/inbox/door.py) this middleware does only what the answer needs, with the same functions the Flask
views use: `shopper.resolve_direct` (the token parsed once), `guard.admit` (Origin, auth level, rate limits
with the route's prefetch in the same Redis trip), the route's answer function, `json_error` and
`guard.cors_headers` for refusals. So every answer is the views' answer: status, body, Content-Type, the CORS
headers, Vary: Origin and Retry-After (tests/storefront/test_storefront_door.py compares them case by case).

Passed on to Flask unchanged, before anything is counted: other methods (OPTIONS preflights, HEAD), other
paths (the app proxy's /proxy/..., routes without an answer function), requests with a body, a query string
that is not UTF-8, and apps with SERVER_NAME or TRUSTED_HOSTS set (Flask checks the host; the door does not).
WSGI: https://peps.python.org/pep-3333/
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from flask import Flask, current_app, has_app_context
from werkzeug.exceptions import HTTPException, InternalServerError

from app.errors import AppError
from app.extensions import db
from app.platform.metrics import storefront_answered
from app.storefront import copies, cors, json_app_error, json_error
from app.storefront.guard import Caller, admit, cors_headers, no_cache
from app.storefront.registry import API_PREFIX, ROUTES, RouteSpec
from app.storefront.shopper import bearer_token, resolve_direct

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
#: A route's path as segments; None marks a `<name>` parameter (one non-empty segment, as Flask's default).
Template = tuple[tuple[str | None, ...], tuple[str, ...], RouteSpec]


def _template(spec: RouteSpec) -> Template:
    segments: list[str | None] = []
    names: list[str] = []
    for part in (API_PREFIX + spec.path).split("/"):
        if part.startswith("<") and part.endswith(">"):
            segments.append(None)
            names.append(part[1:-1])
        else:
            segments.append(part)
    return tuple(segments), tuple(names), spec


def _match(templates: list[Template], path: str) -> tuple[RouteSpec, dict[str, str]] | None:
    parts = path.split("/")
    for segments, names, spec in templates:
        if len(parts) != len(segments):
            continue
        values = [part for part, want in zip(parts, segments, strict=True) if want is None]
        if all(want is None or part == want for part, want in zip(parts, segments, strict=True)) and all(values):
            return spec, dict(zip(names, values, strict=True))
    return None


def _store_key(environ: dict[str, Any]) -> str | None:
    """shopper.request_store_key from the environ: the X-PPE-Store header, else `?store=` as werkzeug parses it
    (raises UnicodeDecodeError where Flask's request.args would fail too: the door then passes)."""
    value = environ.get("HTTP_X_PPE_STORE")
    query = environ.get("QUERY_STRING")
    if value is None and query:
        text = query.encode("latin-1").decode()
        value = next(
            (v for k, v in parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote") if k == "store"), None
        )
    return None if value is None else value.strip()


def _timed(route: str, start_response: Callable[..., Any]) -> Callable[..., Any]:
    """start_response that first records the answer's status and the time taken (app/storefront/timing.py)."""
    started = time.perf_counter()

    def timed(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        storefront_answered(route, int(status[:3]), time.perf_counter() - started)
        return start_response(status, headers, exc_info)

    return timed


class StorefrontDoor:
    """WSGI middleware in front of app.wsgi_app (installed by app.storefront.init_app)."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.templates = [_template(spec) for spec in ROUTES if spec.answer is not None]

    def _passes(self, environ: dict[str, Any]) -> bool:
        config = self.app.config
        return bool(
            environ.get("CONTENT_LENGTH") not in (None, "", "0")
            or "HTTP_TRANSFER_ENCODING" in environ
            or config["SERVER_NAME"]
            or config["TRUSTED_HOSTS"] is not None
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # PATH_INFO is the path's bytes as latin-1 (PEP 3333); werkzeug routes on them decoded as UTF-8.
        path = environ.get("PATH_INFO", "").encode("latin-1").decode(errors="replace")
        found = _match(self.templates, path) if environ.get("REQUEST_METHOD") == "GET" else None
        if found is None or self._passes(environ):
            return self.wsgi_app(environ, start_response)
        try:
            sent_key = _store_key(environ)
        except UnicodeDecodeError:
            return self.wsgi_app(environ, start_response)
        spec, kwargs = found
        start_response = _timed(API_PREFIX + spec.path, start_response)  # the Flask rule: timing.py's label
        caller = Caller(False, environ.get("HTTP_ORIGIN"), environ.get("REMOTE_ADDR"))
        caller.revalidate = no_cache(environ.get("HTTP_CACHE_CONTROL"))
        token = bearer_token(environ.get("HTTP_AUTHORIZATION", ""), environ.get("HTTP_X_PPE_CUSTOMER_TOKEN", ""))
        app = self.app
        # As Flask's request context does: reuse this app's context if one is active (a test's, a CLI's), so
        # the door sees the same database session; else push one (the store cache, db and Redis need it).
        # current_app is typed Flask but is werkzeug's LocalProxy, which has _get_current_object().
        pushed = None if has_app_context() and current_app._get_current_object() is app else app.app_context()  # type: ignore[attr-defined]
        if pushed is not None:
            pushed.push()
        try:
            shopper = admit(spec, caller, resolve_direct(token, sent_key), kwargs)
            answer = copies.serve(spec, caller.lookup, shopper, kwargs)
            body = answer if isinstance(answer, bytes) else orjson.dumps(answer)
        except HTTPException as exc:
            return self._refuse(exc, caller, environ, start_response)
        except AppError as exc:  # a domain refusal (app/errors.py): its status and code, as the Flask views answer
            db.session.rollback()
            return cors_headers(json_app_error(exc), caller.cors_origin)(environ, start_response)
        except Exception:
            propagate = app.config["PROPAGATE_EXCEPTIONS"]
            if propagate or (propagate is None and (app.testing or app.debug)):
                raise
            log.exception("storefront.error")  # the traceback only: no headers, token or key
            return self._refuse(InternalServerError(), caller, environ, start_response)
        finally:
            if pushed is not None:
                pushed.pop()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if caller.cors_origin:
            headers.append(("Access-Control-Allow-Origin", caller.cors_origin))
            headers.append(("Access-Control-Expose-Headers", cors.EXPOSED_HEADERS))
        headers.append(("Vary", "Origin"))
        start_response("200 OK", headers)
        return [body]

    @staticmethod
    def _refuse(
        exc: HTTPException, caller: Caller, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        # Refusals are rare next to answers: the views' own Response (json_error + the CORS headers), as is.
        return cors_headers(json_error(exc), caller.cors_origin)(environ, start_response)
