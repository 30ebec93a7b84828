"""The rq worker class our `flask worker` and `flask serve` run: RQ's SimpleWorker that rides out a Redis outage.

RQ 2.x retries a lost connection only while it waits for the next job (`dequeue_job_and_maintain_ttl`). Every
other Redis call of its loop lets the error out of `work()`, which logs "found an unhandled exception, quitting"
and exits (rq/worker/base.py: `work`, `perform_job`): a job that finishes while Redis is away records its end
(`handle_execution_ended`, `handle_job_success`), fails, records the failure, fails again, and the process is
gone. Here each of those calls waits for Redis instead, with exponential backoff, and then runs again:

- the bookkeeping after a job (`handle_execution_ended`, `handle_job_success`, `handle_job_failure`) is retried
  whole once Redis answers; RQ writes it in one MULTI/EXEC pipeline, so a retry never applies half of it;
- the loop's own calls (`heartbeat`, `set_state`, `check_for_suspension`, `run_maintenance_tasks`) the same;
- anything else that fails in `execute_job` before the job ran leaves the job in RQ's intermediate queue,
  which RQ's maintenance requeues; the worker waits for Redis and goes on.
A stop request (SIGTERM) still stops the worker during an outage. The work itself lives in the database, so
what Redis loses (a restart without persistence) the scheduler's sweeper enqueues again (DESIGN.md, the flow).
Logged: the worker's name and the error's class and text (host and port, never a job's arguments).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq.exceptions import StopRequested
from rq.worker import SimpleWorker

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
T = TypeVar("T")


class Worker(SimpleWorker):
    """SimpleWorker (jobs run in the worker process: the Flask app is built once per process) that waits for
    Redis to come back instead of exiting. It builds the app when it starts: the app's logging
    (platform/logs.py) then replaces the handlers RQ's command line put on its loggers before the worker's first
    line, so every line is written once and in our format."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from app.platform.jobs import job_app  # jobs builds the app (create_app), which imports every package

        job_app()

    #: The first wait after a failure, doubled per failed probe (RQ's own exponential_backoff_factor), at most
    #: max_connection_wait_time: a 25-second outage costs about 6 probes and is noticed within 5 s of its end.
    first_connection_wait_time = 0.5
    max_connection_wait_time = 5.0

    def _ride_out(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        while True:
            try:
                return fn(*args, **kwargs)
            except REDIS_DOWN as exc:
                self.wait_for_redis(exc)

    def wait_for_redis(self, exc: Exception) -> None:
        """Probe Redis with exponential backoff until it answers; StopRequested if a stop was asked meanwhile."""
        reason = f"{type(exc).__name__}: {exc}"
        wait, started = self.first_connection_wait_time, time.monotonic()
        while True:
            self.log.warning("Worker %s: Redis unreachable (%s), retrying in %.1f s", self.name, reason, wait)
            time.sleep(wait)
            if self._stop_requested:
                raise StopRequested
            try:
                self.connection.ping()
            except REDIS_DOWN as again:
                reason = f"{type(again).__name__}: {again}"
                wait = min(wait * self.exponential_backoff_factor, self.max_connection_wait_time)
                continue
            self.log.warning("Worker %s: Redis is back after %.1f s", self.name, time.monotonic() - started)
            return

    def execute_job(self, job: Any, queue: Any) -> None:
        from app.platform.jobs import collect_between_jobs

        try:
            super().execute_job(job, queue)
        except REDIS_DOWN as exc:
            self.wait_for_redis(exc)
        collect_between_jobs()

    def handle_execution_ended(self, job: Any, queue: Any, heartbeat_ttl: int) -> None:
        self._ride_out(super().handle_execution_ended, job, queue, heartbeat_ttl)

    def handle_job_success(self, job: Any, queue: Any, started_job_registry: Any) -> None:
        self._ride_out(super().handle_job_success, job, queue, started_job_registry)

    def handle_job_failure(self, job: Any, queue: Any, started_job_registry: Any = None, exc_string: str = "") -> None:
        self._ride_out(super().handle_job_failure, job, queue, started_job_registry, exc_string)

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        self._ride_out(super().heartbeat, timeout, pipeline)

    def set_state(self, state: str, pipeline: Any = None) -> None:
        self._ride_out(super().set_state, state, pipeline)

    def check_for_suspension(self, burst: bool) -> None:
        self._ride_out(super().check_for_suspension, burst)

    def run_maintenance_tasks(self) -> None:
        self._ride_out(super().run_maintenance_tasks)

    def teardown(self) -> None:
        """Stopping during an outage: the registration expires by itself (its TTL), nothing to wait for."""
        try:
            super().teardown()  # type: ignore[no-untyped-call]
        except REDIS_DOWN as exc:
            self.log.warning("Worker %s: stopped while Redis is unreachable (%s)", self.name, type(exc).__name__)
