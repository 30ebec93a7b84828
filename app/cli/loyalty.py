"""`flask loyalty settings show|set`, `flask loyalty report`, `flask loyalty customer`: JSON for the merchant."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import Customer, Store
from ..models.types import utcnow
from ..services.customers import normalise_email
from ..services.loyalty_admin import customer_summary
from ..services.loyalty_report import liability_report
from ..services.loyalty_settings import SettingsError, as_json, get_settings, update_settings
from ..services.stores import find_store
from .output import print_json


@click.group("loyalty", cls=AppGroup, help="The loyalty programme.")
def loyalty_cli() -> None:
    pass


@loyalty_cli.group("settings", help="Show or change a store's loyalty settings.")
def settings_group() -> None:
    pass


def _store(store_ref: str) -> Store:
    store = find_store(db.session, store_ref)
    if store is None:
        raise click.ClickException(f"no store {store_ref!r}")
    return store


@settings_group.command("show")
@click.argument("store_ref")
def show_settings(store_ref: str) -> None:
    """The effective settings (defaults filled in) of STORE_REF (an id or domain)."""
    try:
        print_json(as_json(get_settings(_store(store_ref))))
    except SettingsError as exc:
        raise click.ClickException(f"stored settings are invalid: {exc}") from exc


@settings_group.command("set")
@click.argument("store_ref")
@click.option("--json", "patch", required=True, help="A JSON object merged into the settings.")
def set_settings(store_ref: str, patch: str) -> None:
    """Merge a patch into the settings, validate, save; prints the result."""
    store = _store(store_ref)
    try:
        parsed = json.loads(patch, parse_float=str)  # decimals stay exact: 0.01 arrives as "0.01"
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--json") from exc
    try:
        settings = update_settings(db.session, store, parsed)
    except SettingsError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    print_json(as_json(settings))


@loyalty_cli.command("report")
@click.argument("store_ref")
def report_command(store_ref: str) -> None:
    """The points liability of STORE_REF per currency (see services/loyalty_report.py)."""
    store = _store(store_ref)
    print_json(liability_report(db.session, store, utcnow()))


@loyalty_cli.command("customer")
@click.argument("store_ref")
@click.argument("who")
def customer_command(store_ref: str, who: str) -> None:
    """One customer's points, tier and last ledger rows. WHO: an email, a platform customer id, or #<our id>."""
    store = _store(store_ref)
    key = normalise_email(who)
    if key:
        match = Customer.email_key == key
    elif who.startswith("#") and who[1:].isdigit():
        match = Customer.id == int(who[1:])
    else:
        match = Customer.platform_id == who
    customer = db.session.scalar(select(Customer).where(Customer.store_id == store.id, match))
    if customer is None:
        raise click.ClickException(f"no customer {who!r} in store {store.domain}")
    print_json(customer_summary(db.session, store, customer, utcnow()))
