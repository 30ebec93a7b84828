"""`flask inbox stats|retry`: see what the workers have done, and replay parked deliveries."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any, cast

import click
from flask.cli import AppGroup
from sqlalchemy import CursorResult, func, select, update

from app.extensions import db
from app.inbox.ingest import kick_processing
from app.inbox.lag import store_lag
from app.inbox.models import FAILED, PENDING, PROCESSING, WebhookDelivery
from app.inbox.woo_upkeep import disconnect_woo_store
from app.platform.output import print_json
from app.platform.progress import Progress
from app.stores.service import find_store
from app.stores.woo_install import bp as woocommerce

#: Deliveries requeued per transaction by `retry` (and ids per status query when it follows them).
RETRY_CHUNK = 1000


@click.group("inbox", cls=AppGroup, help="Inspect and replay webhook deliveries.")
def inbox_cli() -> None:
    pass


@inbox_cli.command("stats")
def stats() -> None:
    """How far behind each store is, and deliveries per store, platform, topic and status, as JSON."""
    rows = db.session.execute(
        select(
            WebhookDelivery.store_id,
            WebhookDelivery.platform,
            WebhookDelivery.topic,
            WebhookDelivery.status,
            func.count(),
        )
        .group_by(WebhookDelivery.store_id, WebhookDelivery.platform, WebhookDelivery.topic, WebhookDelivery.status)
        .order_by(WebhookDelivery.store_id, WebhookDelivery.topic, WebhookDelivery.status)
    ).all()
    deliveries = [{"store_id": s, "platform": p, "topic": t, "status": st, "count": n} for s, p, t, st, n in rows]
    # Per store: deliveries not processed yet, the oldest one's age, when the last one was processed (lag.py).
    lag = store_lag(db.session, {row["store_id"] for row in deliveries})
    db.session.rollback()
    print_json({"stores": lag, "deliveries": deliveries})


@inbox_cli.command("retry")
@click.option("--store-id", type=int, default=None, help="Only this store's deliveries.")
@click.option("--wait", is_flag=True, help="Then follow their processing until none is pending.")
@click.option("--timeout", default=3600.0, show_default=True, help="Seconds --wait waits at most.")
def retry(store_id: int | None, wait: bool, timeout: float) -> None:
    """Put failed deliveries back in the queue (after a fix was deployed); the raw bytes were kept.

    In chunks of RETRY_CHUNK, each committed and kicked, so the workers start on the first while the rest are
    requeued; progress goes to standard error (app/platform/progress.py), the JSON result to standard output.
    """
    failed = select(WebhookDelivery.id).where(WebhookDelivery.status == FAILED).order_by(WebhookDelivery.id)
    if store_id is not None:
        failed = failed.where(WebhookDelivery.store_id == store_id)
    ids = list(db.session.scalars(failed))
    db.session.rollback()
    requeued = 0
    with Progress("retry", len(ids), unit="requeued") as progress:
        for start in range(0, len(ids), RETRY_CHUNK):
            stmt = update(WebhookDelivery).where(
                WebhookDelivery.id.in_(ids[start : start + RETRY_CHUNK]), WebhookDelivery.status == FAILED
            )
            result = db.session.execute(stmt.values(status=PENDING, attempts=0, next_attempt_at=None, last_error=None))
            db.session.commit()
            kick_processing(force=True)
            # DML returns a CursorResult (rowcount); execute() is typed Result
            requeued += cast("CursorResult[Any]", result).rowcount
            progress.update(start + len(ids[start : start + RETRY_CHUNK]))
    if not wait:
        print_json({"requeued": requeued})
        return
    print_json({"requeued": requeued, **_follow(ids, timeout)})


def _follow(ids: list[int], timeout: float) -> dict[str, int]:
    """Poll the requeued deliveries until none is pending or processing (or `timeout`): their final statuses."""
    deadline = time.monotonic() + timeout
    with Progress("processing", len(ids), unit="processed", counts={"failed": 0}) as progress:
        while True:
            counts: Counter[str] = Counter()
            for start in range(0, len(ids), RETRY_CHUNK):
                chunk = ids[start : start + RETRY_CHUNK]
                rows = db.session.execute(
                    select(WebhookDelivery.status, func.count())
                    .where(WebhookDelivery.id.in_(chunk))
                    .group_by(WebhookDelivery.status)
                )
                counts.update(dict(rows.tuples().all()))
            db.session.rollback()  # no read transaction held open against the workers
            waiting = counts[PENDING] + counts[PROCESSING]
            progress.update(len(ids) - waiting, failed=counts[FAILED])
            if not waiting or time.monotonic() >= deadline:
                return {status: counts[status] for status in sorted(counts)}
            time.sleep(1.0)


@woocommerce.cli.command("disconnect")
@click.argument("store_ref")
def disconnect_command(store_ref: str) -> None:
    """Delete our webhooks at the store, forget its keys, mark it uninstalled."""
    store = find_store(db.session, store_ref)
    db.session.rollback()
    if store is None or store.platform != "woocommerce":
        raise click.ClickException("no such WooCommerce store")
    click.echo(json.dumps(disconnect_woo_store(store.id)))
