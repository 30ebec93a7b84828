"""Helpers of the channel tests: run the outbox and the callback workers as an rq worker would, add a customer.
The stand-in providers and the live app are fixtures in conftest.py (`live`, `providers`)."""

from __future__ import annotations

from app.extensions import db
from app.messaging.callback_tasks import schedule_callbacks
from app.messaging.tasks import schedule_messages
from app.records.models import Customer


def run_jobs(app) -> int:
    from rq import SimpleWorker

    from app.platform.queue import get_queue

    with app.app_context():
        queue = get_queue()
        count = queue.count
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        return count


def deliver(app) -> None:
    schedule_messages(app)
    run_jobs(app)


def process_callbacks(app) -> int:
    claimed = schedule_callbacks(app)["claimed"]
    run_jobs(app)
    return claimed


def add_customer(store, **fields) -> Customer:
    values = {"email": "ola@example.com", "email_key": "ola@example.com", "first_name": "Ola", "locale": "pl"}
    values.update(fields)
    row = Customer(store_id=store.id, **values)
    db.session.add(row)
    db.session.commit()
    return row
