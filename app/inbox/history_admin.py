"""The history import in the admin API: GET /admin/api/v1/import (progress), POST to start or resume it.

POST takes {"earn_points": bool, "tiers_from_past": bool} (both optional: false): points for past orders with
today's rules, and tiers from past spend. They can be changed until the first order is imported (409
`choices_fixed` after). docs/history-import.md, docs/admin-api.md.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from app.admin import audit, bp
from app.admin.auth import merchant_required
from app.admin.openapi import documented, obj
from app.errors import InvalidInput
from app.extensions import db
from app.inbox.history_import import describe, enqueue, start
from app.records.history import change_choices, history_import

IMPORT = obj("status", status={"type": "string"})


@bp.get("/import")
@documented(summary="The history import's progress", response=IMPORT, errors={404: "No import for this store"})
@merchant_required
def import_progress() -> Any:
    """Rows done of the total, the phase, an estimate of the seconds left, the merchant's choices."""
    row = history_import(db.session, g.store.id)
    if row is None:
        return jsonify(error="not_found", message="no history import for this store"), 404
    return jsonify(describe(row))


@bp.post("/import")
@documented(
    summary="Start or resume the history import (choices fixed once orders are in)",
    request=obj(earn_points={"type": "boolean"}, tiers_from_past={"type": "boolean"}),
    response=IMPORT,
    status=202,
    errors={409: "The choices are fixed: orders were imported already", 422: "Not true or false"},
)
@merchant_required
def start_import() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise InvalidInput("send a JSON object", field="body")
    choices = {}
    for name in ("earn_points", "tiers_from_past"):
        value = body.get(name, False)
        if not isinstance(value, bool):
            raise InvalidInput("true or false", field=name)
        choices[name] = value
    existing = history_import(db.session, g.store.id)
    if existing is not None:
        change_choices(db.session, existing, **choices)
    row = start(db.session, g.store, **choices)
    audit.record(db.session, g.store, "history.import", "history_import", {k: [None, v] for k, v in choices.items()})
    if row.status in ("waiting", "running"):
        store_id = g.store.id
        db.session.commit()
        enqueue(store_id)  # a waiting or stalled import goes on (the runner's lock keeps a live one alone)
    else:
        db.session.commit()
    return jsonify(describe(row)), 202
