"""Queueing a privacy request's job: shared by the request's recording (service.py, after its commit) and the
scheduler's sweep (tasks.py), in a module of its own so neither imports the other's."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from app.platform.logs import reason
from app.platform.queue import get_queue

log = logging.getLogger(__name__)

JOB = "app.compliance.tasks.run_compliance_request"


def enqueue_request(request_id: int, store_id: int) -> bool:
    """Queue the job for a request; False (the sweep retries later) when Redis is away."""
    try:
        get_queue().enqueue(JOB, request_id, store_id, job_timeout=3600, result_ttl=0, failure_ttl=7 * 86400)
        return True
    except RedisError as exc:
        log.warning("compliance.enqueue_failed", extra={"request_id": request_id, "reason": reason(exc)})
        return False
