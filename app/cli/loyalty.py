"""`flask loyalty settings show|set`: the store's programme settings as JSON."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from ..extensions import db
from ..models import Store
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
