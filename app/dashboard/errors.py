"""The dashboard's refusals: an HTML page for a document, JSON for our script's fetches (as the admin API)."""

from __future__ import annotations

from flask import Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from app.dashboard import bp
from app.dashboard.registry import is_fragment
from app.errors import AppError
from app.extensions import db


def _answer(status: int, code: str, message: str = "") -> Response:
    if is_fragment() or request.accept_mimetypes.best == "application/json":
        response = jsonify(error=code, **({"message": message} if message else {}))
    else:
        response = Response(render_template("dashboard/error.html", status=status, code=code), mimetype="text/html")
    response.status_code = status
    return response


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    code = exc.description if exc.description == "csrf" else (exc.name or "error").lower().replace(" ", "_")
    return _answer(exc.code or 500, code)


@bp.errorhandler(AppError)
def _app_error(exc: AppError) -> Response:
    db.session.rollback()
    return _answer(exc.status, exc.code, exc.message)
