"""Helpers for the surprises' tests: the programme turned on from a moment before the test orders, and the jobs run
in this process (the scheduler's claim, then an rq burst worker)."""

from __future__ import annotations

from datetime import UTC, datetime

from rq import SimpleWorker
from sqlalchemy import select

from app.extensions import db
from app.platform.queue import get_queue
from app.stores.models import Store
from app.surprises.models import Surprise
from app.surprises.settings import update_settings
from app.surprises.tasks import tick
from tests.dashboard.conftest import dash  # noqa: F401  (fixture: the dashboard signed in, for its section's test)

#: Before every order the tests place (2026-11-01): their orders are paid after the programme started.
STARTED = datetime(2026, 10, 1, tzinfo=UTC)


def enable(store: Store, *thresholds: dict, enabled: bool = True) -> None:
    update_settings(db.session, store, {"enabled": enabled, "thresholds": list(thresholds)}, STARTED)
    db.session.commit()


def run_jobs(app) -> None:
    for _ in range(3):  # a code found while being taken back is deleted on the next run
        tick(app)
        with app.app_context():
            queue = get_queue()
            SimpleWorker([queue], connection=queue.connection).work(burst=True)


def surprises(app) -> list[Surprise]:
    with app.app_context():
        rows = list(db.session.scalars(select(Surprise).order_by(Surprise.customer_id, Surprise.threshold)))
        db.session.expunge_all()
        db.session.remove()
    return rows
