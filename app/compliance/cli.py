"""`flask compliance ...`: privacy requests, their status and exports, as JSON."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.compliance.models import FAILED, PENDING
from app.compliance.models import ComplianceRequest as Request
from app.compliance.privacy_requests import TOPICS, file_request
from app.compliance.service import run_request
from app.extensions import db
from app.platform.output import exit_on_error, print_json
from app.records.cli import require_store
from app.stores.service import find_store


def _get(request_id: int) -> Request:
    request = db.session.get(Request, request_id)
    if request is None:
        raise click.ClickException(f"no compliance request {request_id}")
    return request


@click.group(
    "compliance", cls=AppGroup, help="Privacy requests (customers/data_request, customers/redact, shop/redact)."
)
def compliance_cli() -> None:
    pass


@compliance_cli.command("list")
@click.option("--store", "store_ref", default=None, help="A store id or domain (a deleted store: its id).")
@click.option("--status", default=None, type=click.Choice(["pending", "completed", "failed"]))
@click.option("--topic", default=None)
def list_requests(store_ref: str | None, status: str | None, topic: str | None) -> None:
    """Requests, newest first, without their exports."""
    stmt = select(Request).order_by(Request.id.desc())
    if store_ref is not None:
        store = find_store(db.session, store_ref)
        if store is None and not store_ref.isdigit():
            raise click.ClickException(f"no store {store_ref!r}")
        stmt = stmt.where(Request.store_id == (store.id if store else int(store_ref)))
    if status:
        stmt = stmt.where(Request.status == status)
    if topic:
        stmt = stmt.where(Request.topic == topic)
    print_json([r.as_dict() for r in db.session.scalars(stmt)])


@compliance_cli.command("show")
@click.argument("request_id", type=int)
def show(request_id: int) -> None:
    """One request, without its export."""
    print_json(_get(request_id).as_dict())


@compliance_cli.command("export")
@click.argument("request_id", type=int)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None, help="Write to a file.")
def export(request_id: int, output: str | None) -> None:
    """The JSON export of a customers/data_request, for the merchant to hand over."""
    request = _get(request_id)
    if request.export is None:
        reason = "purged" if request.export_purged_at else f"not produced (status {request.status})"
        raise click.ClickException(f"request {request_id} has no export: {reason}")
    text = json.dumps(request.export, indent=2, sort_keys=True)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
        click.echo(json.dumps({"written": output}))
    else:
        click.echo(text)


@compliance_cli.command("run")
@click.argument("request_id", type=int)
def run(request_id: int) -> None:
    """Run one request now, in this process (a failed one is reset and tried again)."""
    request = _get(request_id)
    store_id = request.store_id
    if request.status == FAILED:
        request.status, request.attempts, request.next_attempt_at = PENDING, 0, None
        db.session.commit()
    print_json({"id": request_id, "status": run_request(db.session, request_id, store_id)})


@compliance_cli.command("request")
@click.argument("store_ref")
@click.argument("topic", type=click.Choice(TOPICS))
@click.option("--customer-id", default=None, help="The platform's customer id.")
@click.option("--email", default=None, help="The customer's email (guests have no id).")
@click.option("--order-id", "order_ids", multiple=True, help="An order of theirs (repeatable).")
def request_command(
    store_ref: str, topic: str, customer_id: str | None, email: str | None, order_ids: tuple[str, ...]
) -> None:
    """File a privacy request by hand (WooCommerce stores; or a Shopify request received outside webhooks)."""
    store = require_store(store_ref)
    with exit_on_error():  # PrivacyRequestError
        request = file_request(db.session, store, topic, customer_id=customer_id, email=email, order_ids=order_ids)
    db.session.commit()
    print_json(request.as_dict())
