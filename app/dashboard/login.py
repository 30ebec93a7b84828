"""GET /app/login?token=...: a magic link spent for a session cookie; POST /app/logout ends it.

The link is single use and short-lived (session.py); the answer is a 303 to the overview without the token
in the URL, so it is not kept in the history or sent on in a Referer.
"""

from __future__ import annotations

import logging

from flask import Response, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.dashboard import bp
from app.dashboard.session import (
    COOKIE,
    COOKIE_PATH,
    cookie_options,
    csrf_valid,
    new_session_cookie,
    read_session_cookie,
    spend_login_token,
)
from app.extensions import db
from app.stores.models import Store

log = logging.getLogger(__name__)


@bp.get("/login")
def login() -> BaseResponse:
    spent = spend_login_token(request.args.get("token", ""))
    store = db.session.get(Store, spent.store_id) if spent is not None else None
    if store is None or store.status != "active":
        log.info("dashboard.login_refused")
        body = render_template("dashboard/signin.html", code="link_invalid")
        return Response(body, status=401, mimetype="text/html")
    response = redirect(url_for("dashboard.overview"), 303)
    response.set_cookie(COOKIE, new_session_cookie(store, spent.fingerprint if spent else None), **cookie_options())
    log.info("dashboard.login", extra={"store_id": store.id})
    return response


@bp.post("/logout")
def logout() -> BaseResponse:
    session = read_session_cookie(request.cookies.get(COOKIE))
    if session is not None and not csrf_valid(session, request.form.get("csrf_token")):
        abort(400, description="csrf")
    response = Response(render_template("dashboard/signin.html", code="signed_out"), mimetype="text/html")
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="Lax")
    return response
