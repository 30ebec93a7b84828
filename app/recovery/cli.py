"""`flask recovery list|show|open|close`: a store's recovery cases from the command line (docs/commands.md).

Opening and closing are merchant actions: each writes one audit row as `cli` (app/admin/audit.py), in the same
transaction as the change. Opening goes through the one entry point every programme uses (service.open_case,
reason `manual`), so it is refused for the same reasons (recovery off, an order that does not stand or has nobody
to apologise to) and never makes a second case for an order. Closing takes an unused coupon back exactly as a
refund does (service.take_back): deleted in the store by the job, or never created.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.admin import audit
from app.extensions import db
from app.platform.output import print_json
from app.platform.sql import get_in_store
from app.platform.types import utcnow
from app.records.cli import require_store
from app.recovery.models import STATUSES, RecoveryCase
from app.recovery.service import CaseRefused, as_dict, close_case, find_case, open_case, refusal
from app.stores.models import Store
from connectors.exceptions import MalformedPayload
from connectors.parsing import platform_id

MAX_PAGE = 1000


@click.group("recovery", cls=AppGroup, help="Recovery cases: an apology with a single-use coupon, once per order.")
def recovery_cli() -> None:
    pass


def _case(store: Store, case_id: int) -> RecoveryCase:
    case = get_in_store(db.session, RecoveryCase, case_id, store.id)
    if case is None:
        raise click.ClickException(f"no recovery case {case_id} in this store")
    return case


@recovery_cli.command("list", help="The store's cases, newest first, with their state.")
@click.argument("store_ref")
@click.option("--status", type=click.Choice(STATUSES), default=None)
@click.option("--limit", type=click.IntRange(1, MAX_PAGE), default=50, show_default=True)
@click.option("--before", type=click.IntRange(1), default=None, help="Only cases with a smaller id (the next page).")
def list_command(store_ref: str, status: str | None, limit: int, before: int | None) -> None:
    store = require_store(store_ref)
    stmt = select(RecoveryCase).where(RecoveryCase.store_id == store.id)
    if status is not None:
        stmt = stmt.where(RecoveryCase.status == status)
    if before is not None:
        stmt = stmt.where(RecoveryCase.id < before)
    rows = db.session.scalars(stmt.order_by(RecoveryCase.id.desc()).limit(limit + 1)).all()
    page = rows[:limit]
    print_json({"cases": [as_dict(c) for c in page], "next_before": page[-1].id if len(rows) > limit else None})


@recovery_cli.command("show", help="One case: why it opened, its coupon and where it stands.")
@click.argument("store_ref")
@click.argument("case_id", type=int)
def show_command(store_ref: str, case_id: int) -> None:
    print_json(as_dict(_case(require_store(store_ref), case_id)))


@recovery_cli.command("open", help="Open the order's case by hand (reason manual): the coupon and the apology follow.")
@click.argument("store_ref")
@click.argument("order_id")
def open_command(store_ref: str, order_id: str) -> None:
    store = require_store(store_ref)
    try:
        order_id = platform_id(order_id, "order id")
    except MalformedPayload as exc:
        raise click.ClickException(str(exc)) from exc
    existing = find_case(db.session, store, order_id)
    if existing is not None:  # once per order, whatever opened it: shown, not opened again
        print_json({**as_dict(existing), "opened": False})
        return
    why = refusal(db.session, store, order_id)
    case = None
    if why is None:
        case = open_case(db.session, store, order_id=order_id, customer_id=None, reason="manual", source="cli")
    if case is None:
        db.session.rollback()
        raise click.ClickException(f"cannot open a case: {why or 'refused'}")
    diff = {"order_id": order_id, "reason": "manual"}
    audit.record(db.session, store, "recovery.open", f"recovery_case:{case.id}", diff)
    db.session.commit()
    print_json({**as_dict(case), "opened": True})


@recovery_cli.command("close", help="Close a case: its unused coupon is taken back as on a refund.")
@click.argument("store_ref")
@click.argument("case_id", type=int)
def close_command(store_ref: str, case_id: int) -> None:
    store = require_store(store_ref)
    case = _case(store, case_id)
    before = case.status
    try:
        changed = close_case(db.session, store, case, utcnow())
    except CaseRefused as exc:
        db.session.rollback()
        raise click.ClickException(f"cannot close case {case_id}: {exc}") from exc
    if changed:
        audit.record(db.session, store, "recovery.close", f"recovery_case:{case.id}", {"status": [before, case.status]})
    db.session.commit()
    print_json({**as_dict(case), "closed": changed})
