"""The daily rhythm refresh: a scheduler step finds stores whose rhythm is a day old and queues one job each (the
job id carries the date, so a tick that runs twice queues it once); the job recomputes it (rhythm.compute)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.messaging.api import mail_now
from app.platform.jobs import job_app
from app.platform.queue import get_queue
from app.segments import rhythm
from app.segments.models import SegmentRhythm
from app.stores.models import Store

JOB = "app.segments.tasks.refresh_rhythm"
PER_TICK = 100


def refresh_rhythm(store_id: int) -> str:
    app = job_app()
    with app.app_context():
        try:
            store = db.session.get(Store, store_id)
            if store is None:
                return "gone"
            rhythm.compute(db.session, store, mail_now(app))
            db.session.commit()
            return "done"
        finally:
            db.session.remove()


def schedule_rhythms(app: Flask) -> dict[str, int]:
    with app.app_context():
        try:
            now = mail_now(app)
            stale = select(SegmentRhythm.store_id).where(SegmentRhythm.computed_at < now - rhythm.STALE)
            ids = list(db.session.scalars(stale.order_by(SegmentRhythm.computed_at).limit(PER_TICK)))
            queue = get_queue()
            for store_id in ids:
                queue.enqueue(JOB, store_id, job_id=f"segments-rhythm-{store_id}-{now.date().isoformat()}")
            return {"queued": len(ids)}
        finally:
            db.session.remove()
