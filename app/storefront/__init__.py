"""Blueprint: the public storefront API that widgets on the stores' pages call.

`/api/v1/...` (WooCommerce signed customer token, or anonymous with the store's public key; CORS limited to the
store's origins) and `/proxy/api/v1/...` (the same views behind the Shopify app proxy's signature). Features add
their endpoints with `registry.storefront_route` and read the caller with `shopper.current_shopper()`; every
answer under /api and /proxy, errors included, is JSON. A domain error a view lets through (app/errors.py) is
answered by `_app_error`, here for the whole app (the admin blueprint has its own): never a 500.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Flask, Response, jsonify, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException

from app.errors import AppError
from app.extensions import db

bp = Blueprint("storefront", __name__)

_JSON_PREFIXES = ("/api/", "/proxy/", "/admin/api/")  # the admin API's unknown paths answer JSON too


def json_answer(data: Any) -> Response:
    """A 200 JSON answer serialised by orjson (the hot endpoints: several times cheaper than jsonify), or as
    given if it is bytes (a cached answer, already JSON)."""
    return Response(data if isinstance(data, bytes) else orjson.dumps(data), mimetype="application/json")


def json_error(exc: HTTPException) -> Response:
    """The JSON answer to a refusal (401, 404, 405, 413, 429, 500): for the views and the WSGI door alike."""
    code = exc.code or 500
    error = exc.description if code in (401, 403) and exc.description else (exc.name or "error")
    response = jsonify(error=str(error).lower().replace(" ", "_"), message=exc.description)
    response.status_code = code
    for name, value in exc.get_headers():
        if name.lower() != "content-type":  # keeps Retry-After (429), Allow (405), WWW-Authenticate
            response.headers[name] = value
    return response


def _json_error(exc: HTTPException) -> Response | HTTPException:
    """Widgets read JSON also when refused under /api and /proxy; other paths keep werkzeug's HTML."""
    return json_error(exc) if request.path.startswith(_JSON_PREFIXES) else exc


def json_app_error(exc: AppError) -> Response:
    """The JSON answer to a domain error (app/errors.py): its status, {"error": code, "message": ..., **details}."""
    response = jsonify(exc.body())
    response.status_code = exc.status
    return response


def _app_error(exc: AppError) -> Response | HTTPException:
    """JSON under /api and /proxy; elsewhere (install and form views that let one through) werkzeug's page of
    the error's status. Nothing the view wrote is kept."""
    db.session.rollback()
    if request.path.startswith(_JSON_PREFIXES):
        return json_app_error(exc)
    page = HTTPException(description=exc.message or None)
    page.code = exc.status
    return page


class StorefrontlessSessions(SecureCookieSessionInterface):
    """The app's cookie sessions, except under /api and /proxy: those answers use tokens and signatures, never
    a cookie (cors.py: no credentials), yet every request paid for building the cookie signer (about a tenth of
    a storefront request, bench/sfprofile.py). There Flask gets its NullSession: readable, refuses writes."""

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        if request.path.startswith(_JSON_PREFIXES):
            return None  # Flask falls back to make_null_session; save_session then has nothing to write
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    # Features' storefront routes were imported by their init_app, which runs first: Flask refuses new routes on
    # a registered blueprint.
    from app.storefront import guard, openapi, routes, timing, widget  # noqa: F401
    from app.storefront.door import StorefrontDoor

    app.register_blueprint(bp)
    app.register_error_handler(HTTPException, _json_error)
    app.register_error_handler(AppError, _app_error)
    # The two hottest widget calls are answered before Flask (door.py); everything else goes on to Flask.
    app.wsgi_app = StorefrontDoor(app, app.wsgi_app)  # type: ignore[method-assign]
    if type(app.session_interface) is SecureCookieSessionInterface:  # only replace Flask's default
        app.session_interface = StorefrontlessSessions()
