"""Admin API: the shoppers' messages of the store and where they go.

GET   /admin/api/v1/support/messages?status=unread|handled&kind=<kind>&limit=50&before=<id>
POST  /admin/api/v1/support/messages/<id>/handled     (or /unread)
GET   /admin/api/v1/support/settings                 {"notify_emails", "store_email", "recipients"}
PATCH /admin/api/v1/support/settings                 {"notify_emails": ["a@shop.example", ...]}
"""

from __future__ import annotations

from flask import Response, current_app, g, jsonify, request

from app.admin import audit, bp
from app.admin.auth import merchant_required
from app.admin.openapi import documented, obj
from app.errors import InvalidInput
from app.extensions import db
from app.messaging.api import mail_now
from app.support.models import KINDS, STATUSES
from app.support.service import as_dicts, find, hand_over_waiting, list_messages, mark
from app.support.settings import as_json, update_settings


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise InvalidInput(f"{name} is one of {', '.join(allowed)}", field=name)
    return value


def _int_arg(name: str, default: int | None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise InvalidInput(f"{name} is a positive integer", field=name)
    return int(raw)


_Q = {"in": "query", "required": False}
MAX_BEFORE = 10**18 - 1  # _int_arg's 18 digits: ids are BIGINT, and a number past them names no row
MESSAGE = obj("id", "kind", "status", "created_at", id={"type": "integer"}, kind={"enum": list(KINDS)})
SETTINGS = obj("notify_emails", "recipients", notify_emails={"type": "array", "items": {"type": "string"}})


@bp.get("/support/messages")
@documented(
    summary="What shoppers sent the merchant (help messages, low-rating alerts), newest first",
    query=[
        {"name": "status", **_Q, "schema": {"enum": list(STATUSES)}},
        {"name": "kind", **_Q, "schema": {"enum": list(KINDS)}},
        {"name": "limit", **_Q, "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
        {"name": "before", **_Q, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_BEFORE}},
    ],
    response=obj("messages", messages={"type": "array", "items": MESSAGE}),
    errors={400: "A bad status, kind, limit or before"},
)
@merchant_required
def support_messages() -> Response:
    page = list_messages(
        db.session,
        g.store,
        status=_choice("status", STATUSES),
        kind=_choice("kind", KINDS),
        limit=_int_arg("limit", 50) or 50,
        before=_int_arg("before", None),
    )
    return jsonify(page)


@bp.post("/support/messages/<int:support_id>/<any(handled, unread):status>")
@documented(summary="Mark a message handled (or unread again)", response=MESSAGE, errors={404: "No such message"})
@merchant_required
def support_mark(support_id: int, status: str) -> Response | tuple[Response, int]:
    try:
        before = find(db.session, g.store, support_id).status
        row = mark(db.session, g.store, support_id, status, mail_now(current_app))
    except LookupError:
        db.session.rollback()
        return jsonify(error="not_found", message="no such message in this store"), 404
    audit.record(db.session, g.store, f"support.{status}", f"support_message:{row.id}", {"status": [before, status]})
    db.session.commit()
    return jsonify(as_dicts(db.session, g.store, [row])[0])


@bp.get("/support/settings")
@documented(summary="Who gets shoppers' messages: the notification list, else the store's e-mail", response=SETTINGS)
@merchant_required
def support_settings() -> Response:
    return jsonify(as_json(g.store))


@bp.patch("/support/settings")
@documented(
    summary="Set the notification list (validated); messages waiting for an address go out at once",
    request=obj(notify_emails={"type": "array", "items": {"type": "string"}, "maxItems": 5}),
    response=SETTINGS,
    errors={422: "A bad address or too many (the field is named)"},
)
@merchant_required
def patch_support_settings() -> Response:
    patch = request.get_json(silent=True)
    with audit.settings_change(db.session, g.store, "support"):
        settings = update_settings(db.session, g.store, patch)  # SettingsError: 422 through the blueprint's handler
    handed = hand_over_waiting(db.session, g.store, mail_now(current_app))
    db.session.commit()
    return jsonify({**settings, "handed_over": handed})
