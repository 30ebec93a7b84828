"""A worker killed with SIGKILL mid-batch: another worker applies its deliveries within seconds, each once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq import Worker
from sqlalchemy import func, select

from app.extensions import db
from app.inbox.models import DONE, PROCESSING, WebhookDelivery
from app.loyalty.models import PointsLedger
from app.platform.queue import get_queue
from app.scheduler import tick
from tests.helpers import add_store, dumps, shopify_headers, shopify_order

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow
ORDERS = 400
LEASE_SECONDS = 2


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(BIN / "flask"), "--app", "wsgi", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _count(*where) -> int:  # noqa: ANN002
    db.session.commit()  # a fresh read of what the workers committed
    return db.session.scalar(select(func.count()).select_from(WebhookDelivery).where(*where)) or 0


def _ids(*where) -> list[int]:  # noqa: ANN002
    db.session.commit()
    return list(db.session.scalars(select(WebhookDelivery.id).where(*where)))


def test_rows_of_a_killed_worker_are_applied_by_another_within_seconds(app, backend_env, client, ctx):
    add_store("shopify")
    for n in range(ORDERS):
        body = dumps(shopify_order(6000 + n, email=f"c{n}@example.com", customer_id=9000 + n))
        assert (
            client.post("/webhooks/shopify", data=body, headers=shopify_headers("orders/create", body)).status_code
            == 200
        )
    # Small batches: the busy worker is always inside one, with its rows claimed and not yet committed.
    env = {**os.environ, **backend_env, "INBOX_BATCH_SIZE": "10", "INBOX_LEASE_SECONDS": str(LEASE_SECONDS)}
    workers = [_worker(env), _worker(env)]  # two, as deployed: one takes the drain job, the other waits
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # some batches done, one claimed and not yet committed
            if _count(WebhookDelivery.status == DONE) >= 20 and _count(WebhookDelivery.status == PROCESSING):
                break
            time.sleep(0.005)
        busy = [w.pid for w in Worker.all(queue=get_queue()) if w.get_current_job_id()]
        killed = next(p for p in workers if p.pid in busy)
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
        killed_at = time.monotonic()
        stranded = _ids(WebhookDelivery.status == PROCESSING)
        assert stranded, "the worker was not inside a batch when it was killed"
        assert _count(WebhookDelivery.status == DONE) < ORDERS

        # The scheduler's sweep, as `flask scheduler` runs it every SCHEDULER_INTERVAL_SECONDS.
        recovered_in = None
        while _count(WebhookDelivery.status == DONE) < ORDERS and time.monotonic() - killed_at < 60:
            if recovered_in is None and not _ids(WebhookDelivery.id.in_(stranded), WebhookDelivery.status != DONE):
                recovered_in = time.monotonic() - killed_at
            tick(app)
            time.sleep(0.2)
    finally:
        for process in workers:
            process.terminate()
        for process in workers:
            process.wait(timeout=15)
    assert _count(WebhookDelivery.status == DONE) == ORDERS
    # Seconds, not the five minutes of a lease that outlasts any batch: the lease, a tick, one batch.
    assert recovered_in is not None and recovered_in < LEASE_SECONDS + 5, recovered_in
    # Each paid order earned its points once: the stranded deliveries were applied by one worker only.
    earned = db.session.scalars(select(PointsLedger.source_key)).all()
    assert len(earned) == len(set(earned)) == ORDERS
