"""Storefront requests counted by route and status with their latency (ppe_storefront_request_seconds).

Once for every route, never per view: the blueprint's request hooks time what goes through Flask, and the door
(door.py) times what it answers itself, with the same route label (the Flask rule, e.g. /api/v1/me/balance), so a
route reads the same whichever way it was served. The label is a registered rule, never the requested path, so
no request can add a series. An exception no handler answered (a 500 from Flask itself) skips after_request and
is not counted here; the storefront's errors are answered by its handlers, and those are.
"""

from __future__ import annotations

import time

from flask import Response, g, request

from app.platform.metrics import storefront_answered
from app.storefront import bp


@bp.before_request
def _started() -> None:
    g.storefront_started = time.perf_counter()


@bp.after_request
def _answered(response: Response) -> Response:
    started = g.pop("storefront_started", None)
    if started is not None:
        rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
        storefront_answered(rule, response.status_code, time.perf_counter() - started)
    return response
