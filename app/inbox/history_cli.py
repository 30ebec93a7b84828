"""`flask stores import <store>`: import (or resume) a store's past customers and orders, with a progress bar.

It runs the import in the command's process, as the job would (inbox/history_import.run), so it also resumes an
import a job left (stalled, failed, waiting for Shopify). docs/history-import.md, docs/commands.md.
"""

from __future__ import annotations

import click

from app.extensions import db
from app.inbox.history_import import describe, progress, run, start
from app.platform.output import exit_on_error, print_json
from app.platform.progress import Progress
from app.records.cli import require_store, stores_cli
from app.records.history import change_choices, history_import
from app.records.models import HistoryImport


@stores_cli.command("import")
@click.argument("store_ref")
@click.option("--points/--no-points", default=False, help="Past orders earn points (today's rules). Default: no.")
@click.option("--tiers/--no-tiers", default=False, help="Past spend counts towards tiers. Default: no.")
def import_history(store_ref: str, points: bool, tiers: bool) -> None:
    """Import STORE_REF's past customers and orders; prints the import as JSON when it stops."""
    store = require_store(store_ref)
    existing = history_import(db.session, store.id)
    with exit_on_error():  # the choices cannot change once orders were imported
        if existing is not None:
            change_choices(db.session, existing, earn_points=points, tiers_from_past=tiers)
        row = start(db.session, store, earn_points=points, tiers_from_past=tiers, enqueue_job=False)
    db.session.commit()
    first = progress(row)
    with Progress("import", first["total"], unit="rows", counts={"failed": row.failed}) as bar:

        def show(current: HistoryImport) -> None:
            now = progress(current)
            bar.update(now["done"], total=now["total"], failed=current.failed)

        status = run(db.session, store.id, on_progress=show)
    if status == "busy":
        raise click.ClickException(
            "another runner (a worker's job) is importing this store's history: watch it with GET /admin/api/v1/import"
        )
    assert row is not None
    print_json(describe(row))
