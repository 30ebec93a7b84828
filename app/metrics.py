"""GET /metrics: the Prometheus text format for a scraper (app/platform/metrics.py says what is counted).

Protected by a bearer token, METRICS_TOKEN (`Authorization: Bearer <token>`, Prometheus's `authorization`
scrape setting: https://prometheus.io/docs/prometheus/latest/configuration/configuration/#scrape_config), compared
in constant time. Without it the endpoint is open in development (the embedded run listens on 127.0.0.1) and
absent in production (404): metrics name stores and show their traffic, so they are not served to anyone
unless the operator chose a token. A production start does not require one: a deployment may not scrape.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import NotFound, ServiceUnavailable, Unauthorized

from app.extensions import db
from app.platform.metrics import exposition

bp = Blueprint("metrics", __name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@bp.get("/metrics")
def metrics() -> Response:
    token = current_app.config.get("METRICS_TOKEN")
    if token is None:
        if current_app.config.get("APP_ENV") == "production":
            raise NotFound()
    else:
        sent = request.headers.get("Authorization", "")
        scheme, _, value = sent.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
            raise Unauthorized(www_authenticate="Bearer")  # type: ignore[arg-type]
    try:
        body = exposition(db.session)
    except DBAPIError:
        # The database gauges cannot be read: the scrape fails visibly (Prometheus records `up` 0), no 500.
        raise ServiceUnavailable(description="database unavailable") from None
    finally:
        db.session.rollback()  # a scrape holds no transaction open
    return Response(body, content_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
