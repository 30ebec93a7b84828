"""app/platform/outbox_jobs.py: claim_and_enqueue takes the due rows, enqueues one job each, and a Redis outage
leaves the rows to the next tick once their lease passes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.extensions import db
from app.platform import outbox_jobs
from app.platform.outbox_jobs import OutboxColumns, claim_and_enqueue

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)
JOB = "tests.platform.test_outbox_jobs.work"


class _Base(DeclarativeBase):  # a metadata of its own: the app's (migrations, flush-order test) never sees it
    pass


class Row(OutboxColumns, _Base):
    __tablename__ = "platform_outbox_jobs_test"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(Integer, default=7)
    status: Mapped[str] = mapped_column(String(16))


class _Queue:
    """Records what is enqueued; `down` makes it fail as RQ does when Redis does not answer."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, int, int, int, int]] = []
        self.down = False

    def enqueue(self, job: str, row_id: int, attempt: int, store_id: int, **options: int) -> None:
        if self.down:
            raise RedisConnectionError("Connection refused")
        self.jobs.append((job, row_id, attempt, store_id, options["job_timeout"]))


@pytest.fixture
def queue(app, monkeypatch) -> Iterator[_Queue]:
    """The fake queue, and Row's table made for the test and dropped after it (inside an app context)."""
    fake = _Queue()
    monkeypatch.setattr(outbox_jobs, "get_queue", lambda: fake)
    with app.app_context():
        tables = [Row.__table__]
        _Base.metadata.create_all(db.engine, tables=tables)
        try:
            yield fake
        finally:
            db.session.remove()
            _Base.metadata.drop_all(db.engine, tables=tables)


def _tick(now: datetime = NOW) -> int:
    return claim_and_enqueue(
        db.session, Row, job=JOB, statuses=("pending", "reversing"), now=now, lease=LEASE, job_timeout=120, event="t.e"
    )


def test_due_rows_of_the_statuses_are_claimed_and_enqueued_once_each(app, queue):
    db.session.add_all(
        [
            Row(id=1, status="pending", next_attempt_at=NOW - timedelta(minutes=1)),
            Row(id=2, store_id=8, status="reversing", next_attempt_at=NOW - timedelta(hours=1), attempts=3),
            Row(id=3, status="pending", next_attempt_at=NOW + timedelta(minutes=1)),  # not due yet
            Row(id=4, status="issued", next_attempt_at=NOW - timedelta(hours=1)),  # not a due status
            Row(id=5, status="pending", next_attempt_at=NOW - timedelta(hours=2), locked_until=NOW + LEASE),
        ]
    )
    db.session.commit()
    assert _tick() == 2
    assert _tick() == 0  # leased now: a second scheduler pass takes nothing
    # each job names its row's store, so the job's reads can name it too (docs/deployment.md, Citus)
    assert sorted(queue.jobs) == [(JOB, 1, 1, 7, 120), (JOB, 2, 4, 8, 120)]


def test_an_enqueue_lost_to_redis_is_claimed_again_when_the_lease_passes(app, queue):
    db.session.add(Row(id=1, status="pending", next_attempt_at=NOW - timedelta(minutes=1)))
    db.session.commit()
    queue.down = True
    assert _tick() == 0
    assert _tick(NOW + LEASE / 2) == 0  # still leased: not claimed, not counted
    queue.down = False
    assert _tick(NOW + LEASE) == 1
    row = db.session.scalars(select(Row)).one()
    assert queue.jobs == [(JOB, 1, 2, 7, 120)]  # the second claim's attempt: a job of the first would do nothing
    assert row.attempts == 2
