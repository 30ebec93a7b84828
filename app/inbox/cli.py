"""`flask inbox stats|retry`: see what the workers have done, and replay parked deliveries."""

from __future__ import annotations

import json
from typing import Any, cast

import click
from flask.cli import AppGroup
from sqlalchemy import CursorResult, func, select, update

from app.extensions import db
from app.inbox.ingest import kick_processing
from app.inbox.lag import store_lag
from app.inbox.models import FAILED, PENDING, WebhookDelivery
from app.inbox.woo_upkeep import disconnect_woo_store
from app.platform.output import print_json
from app.stores.service import find_store
from app.stores.woo_install import bp as woocommerce


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
def retry(store_id: int | None) -> None:
    """Put failed deliveries back in the queue (after a fix was deployed); the raw bytes were kept."""
    stmt = update(WebhookDelivery).where(WebhookDelivery.status == FAILED)
    if store_id is not None:
        stmt = stmt.where(WebhookDelivery.store_id == store_id)
    result = db.session.execute(stmt.values(status=PENDING, attempts=0, next_attempt_at=None, last_error=None))
    db.session.commit()
    kick_processing(force=True)
    # DML returns a CursorResult (rowcount); execute() is typed Result
    print_json({"requeued": cast("CursorResult[Any]", result).rowcount})


@woocommerce.cli.command("disconnect")
@click.argument("store_ref")
def disconnect_command(store_ref: str) -> None:
    """Delete our webhooks at the store, forget its keys, mark it uninstalled."""
    store = find_store(db.session, store_ref)
    db.session.rollback()
    if store is None or store.platform != "woocommerce":
        raise click.ClickException("no such WooCommerce store")
    click.echo(json.dumps(disconnect_woo_store(store.id)))
