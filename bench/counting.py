"""The bench's worker class: rq's SimpleWorker, plus a count of SQL statements and commits.

Counting is two SQLAlchemy engine events (a few microseconds per statement), so
the no-op baseline runs through this same class to keep the comparison fair.
The counts are written as JSON to the file named by BENCH_COUNTS_FILE when the
burst ends.
"""

from __future__ import annotations

import json
import os
from typing import Any

from rq.worker import SimpleWorker
from sqlalchemy import event
from sqlalchemy.engine import Engine

COUNTS_ENV = "BENCH_COUNTS_FILE"
COUNTS = {"statements": 0, "commits": 0, "jobs": 0}
SQL_LOG_ENV = "BENCH_SQL_LOG"  # a file to append every statement's first line to (which statements a part sends)
_SQL_LOG = open(os.environ[SQL_LOG_ENV], "a") if os.environ.get(SQL_LOG_ENV) else None  # noqa: SIM115


@event.listens_for(Engine, "before_cursor_execute")
def _statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    COUNTS["statements"] += 1  # an executemany is one round trip, counted once
    if _SQL_LOG is not None:
        _SQL_LOG.write(" ".join(statement.split())[:160] + "\n")


@event.listens_for(Engine, "commit")
def _commit(*_args: Any) -> None:
    COUNTS["commits"] += 1


def noop() -> None:
    """The baseline job: nothing, so what is left is RQ's own cost per job."""


class CountingWorker(SimpleWorker):
    """Builds the app when it starts, as the deployed worker does (app/platform/worker.Worker): otherwise the first
    job builds it (job_app) inside the span bench.process times, and every package the app gains slows the rate."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from app.platform.jobs import job_app

        job_app()

    def perform_job(self, *args: Any, **kwargs: Any) -> bool:
        COUNTS["jobs"] += 1
        return super().perform_job(*args, **kwargs)

    def work(self, *args: Any, **kwargs: Any) -> bool:
        try:
            return super().work(*args, **kwargs)
        finally:
            path = os.environ.get(COUNTS_ENV)
            if path:
                with open(path, "w") as handle:
                    json.dump(COUNTS, handle)
