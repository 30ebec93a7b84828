"""app/platform/outbox.py: backoff, claim_due (two workers never take the same row) and on_commit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import DateTime, Integer, String, or_, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from app.platform.outbox import Claimed, backoff, claim_due, on_commit

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


class _Base(DeclarativeBase):  # a metadata of its own: the app's (migrations, flush-order test) never sees it
    pass


class Row(_Base):
    """An outbox table's claim columns: id, status, due time, attempts, lease."""

    __tablename__ = "platform_claim_test"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- backoff -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempt", "seconds"), [(0, 30), (1, 30), (2, 60), (3, 120), (4, 240), (7, 1920), (8, 3600), (50, 3600)]
)
def test_backoff_doubles_from_base_up_to_the_cap(attempt, seconds):
    assert backoff(attempt, 30, 3600) == timedelta(seconds=seconds)


@pytest.mark.parametrize("attempts", range(0, 25))
def test_backoff_gives_the_numbers_of_the_formulas_it_replaced(attempts):
    six_hours = timedelta(hours=6)
    # loyalty write-back and redemptions: min(cap, base * 2 ** max(0, attempts - 1)) seconds
    assert backoff(attempts, 60, 3600) == timedelta(seconds=min(3600, 60 * 2 ** max(0, attempts - 1)))
    if attempts >= 1:  # messaging: a message being sent was claimed, so attempts >= 1
        assert backoff(attempts, 300, six_hours.total_seconds()) == min(
            six_hours, timedelta(seconds=300 * 2 ** (attempts - 1))
        )
    # reviews publishing: min(base * 2 ** attempts, 6 h), attempts counted from 0
    assert backoff(attempts + 1, 30, six_hours.total_seconds()) == min(timedelta(seconds=30 * 2**attempts), six_hours)


# --- claim_due -----------------------------------------------------------------------------------------------


@pytest.fixture
def table(app) -> Iterator[None]:
    from app.extensions import db

    with app.app_context():
        _Base.metadata.drop_all(db.engine)
        _Base.metadata.create_all(db.engine)
        try:
            yield
        finally:
            db.session.remove()
            _Base.metadata.drop_all(db.engine)


def _session(app) -> Session:
    from app.extensions import db

    with app.app_context():
        return Session(db.engine)


def _add(app, *rows: Row) -> None:
    with _session(app) as session:
        session.add_all(rows)
        session.commit()


def _claim(session: Session, limit: int = 10, now: datetime = NOW) -> list[Claimed]:
    return claim_due(
        session,
        Row,
        now=now,
        limit=limit,
        lease=LEASE,
        where=[
            Row.status == "queued",
            or_(Row.due_at.is_(None), Row.due_at <= now),
            or_(Row.locked_until.is_(None), Row.locked_until < now),
        ],
        order_by=[Row.due_at, Row.id],
        values={"status": "sending"},
    )


def test_claim_due_takes_due_rows_in_order_sets_the_lease_and_counts_the_attempt(app, table):
    _add(
        app,
        Row(id=1, status="queued", due_at=NOW - timedelta(minutes=1), attempts=0),
        Row(id=2, status="queued", due_at=NOW + timedelta(minutes=1), attempts=0),  # not due
        Row(id=3, status="sent", due_at=NOW - timedelta(minutes=1), attempts=1),  # not queued
        Row(id=4, status="queued", due_at=NOW - timedelta(hours=1), attempts=2),
        Row(id=5, status="queued", due_at=NOW - timedelta(minutes=30), attempts=0, locked_until=NOW + LEASE),
    )
    with _session(app) as session:
        assert _claim(session, limit=1) == [(4, 3, None)]  # the earliest due first (a table without a store)
        assert _claim(session) == [(1, 1, None)]
        assert _claim(session) == []
        rows = {row.id: row for row in session.scalars(select(Row))}
    assert (rows[4].status, rows[4].attempts) == ("sending", 3)
    assert rows[4].locked_until is not None and rows[4].locked_until.replace(tzinfo=UTC) == NOW + LEASE
    assert (rows[2].status, rows[2].attempts, rows[2].locked_until) == ("queued", 0, None)
    assert (rows[3].status, rows[3].attempts) == ("sent", 1)


def _postgres_only(app) -> None:
    from app.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locks (FOR UPDATE SKIP LOCKED) are PostgreSQL's: run with TEST_DATABASE_URL")


def test_claim_due_skips_rows_another_worker_holds_locked(app, table):
    _postgres_only(app)
    _add(app, *(Row(id=i, status="queued", due_at=NOW - timedelta(minutes=i), attempts=0) for i in range(1, 5)))
    with _session(app) as first, _session(app) as second:
        # The first worker is inside its claim: rows 4 and 3 (the earliest due) locked, not yet updated.
        held = first.scalars(select(Row.id).where(Row.id.in_([3, 4])).with_for_update()).all()
        assert sorted(held) == [3, 4]
        assert _claim(second) == [(1, 1, None), (2, 1, None)]  # no wait, no row of the first worker's
        first.commit()
        assert _claim(first) == [(3, 1, None), (4, 1, None)]
        assert _claim(second) == []


def test_two_workers_claiming_at_once_never_take_the_same_row(app, table):
    _postgres_only(app)
    _add(app, *(Row(id=i, status="queued", due_at=NOW - timedelta(seconds=i), attempts=0) for i in range(1, 201)))
    claimed: list[list[Claimed]] = [[], []]
    start = threading.Barrier(2)

    def worker(index: int) -> None:
        with _session(app) as session:
            start.wait()
            while batch := _claim(session, limit=7):
                claimed[index].extend(batch)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    ids = [row_id for batch in claimed for row_id, _, _ in batch]
    assert sorted(ids) == list(range(1, 201))  # every row once: none twice, none left
    assert {attempt for batch in claimed for _, attempt, _ in batch} == {1}


# --- on_commit -----------------------------------------------------------------------------------------------


def test_on_commit_runs_once_after_the_commit(app, ctx):
    from app.extensions import db

    ran: list[str] = []
    db.session.execute(select(1))
    on_commit(db.session, lambda: ran.append("a"))
    on_commit(db.session, lambda: ran.append("b"))
    assert ran == []
    db.session.commit()
    assert ran == ["a", "b"]
    db.session.execute(select(1))
    db.session.commit()
    assert ran == ["a", "b"]


def test_on_commit_never_runs_after_a_rollback(app, ctx):
    from app.extensions import db

    ran: list[str] = []
    db.session.execute(select(1))
    on_commit(db.session, lambda: ran.append("rolled back"))
    db.session.rollback()
    db.session.execute(select(1))
    db.session.commit()
    assert ran == []


def test_on_commit_waits_for_the_outer_transaction_not_a_savepoint(app, ctx):
    from app.extensions import db

    ran: list[str] = []
    db.session.execute(select(1))
    with db.session.begin_nested():
        on_commit(db.session, lambda: ran.append("outer"))
    assert ran == []  # the SAVEPOINT was released: the transaction is not committed yet
    savepoint = db.session.begin_nested()
    savepoint.rollback()
    assert ran == []
    db.session.commit()
    assert ran == ["outer"]


def test_on_commit_is_dropped_when_the_session_closes(app, ctx):
    from app.extensions import db

    ran: list[str] = []
    db.session.execute(select(1))
    on_commit(db.session, lambda: ran.append("closed"))
    db.session.close()
    db.session.execute(select(1))
    db.session.commit()
    assert ran == []
