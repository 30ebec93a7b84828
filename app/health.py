"""GET /healthz for load balancers and process supervisors.

Plain liveness by default; `?deep=1` also checks the database and Redis, for
readiness probes (a 503 there takes the instance out of rotation).
"""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, request
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.platform.queue import get_redis

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    if not request.args.get("deep"):
        return jsonify(status="ok")
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except DBAPIError:
        checks["database"] = "down"
    finally:
        db.session.rollback()
    try:
        get_redis().ping()
        checks["redis"] = "ok"
    except RedisError:
        checks["redis"] = "down"
    healthy = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if healthy else "degraded", **checks), 200 if healthy else 503


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
