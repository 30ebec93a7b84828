"""`flask segments`: the store's segments with their sizes, and a segment's members."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db
from app.messaging.api import mail_now
from app.platform.output import print_json
from app.records.cli import require_store
from app.segments import service


@click.group("segments", cls=AppGroup, help="Customer segments (lifecycle and the store's own).")
def segments_cli() -> None:
    pass


@segments_cli.command("list", help="Every segment with its size now.")
@click.argument("store_ref")
def list_command(store_ref: str) -> None:
    store = require_store(store_ref)
    sizes = service.counts(db.session, store, mail_now(current_app))
    db.session.commit()
    print_json({d.key: {"name": d.name, "built_in": d.built_in, "customers": n} for d, n in sizes})


@segments_cli.command("members", help="A segment's members (our customer ids, e-mails masked).")
@click.argument("store_ref")
@click.argument("key")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
def members_command(store_ref: str, key: str, limit: int) -> None:
    store = require_store(store_ref)
    definition = service.find(db.session, store, key)
    if definition is None:
        raise click.ClickException(f"no segment {key!r} in this store")
    rows = service.members(db.session, store, definition, mail_now(current_app), limit=limit)
    db.session.commit()
    print_json([{"id": c.id, "platform_id": c.platform_id, "orders_count": c.orders_count} for c in rows])
