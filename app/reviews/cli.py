"""`flask reviews settings show|set`: the review programme's settings as JSON, like `flask loyalty settings`."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from app.admin import audit
from app.extensions import db
from app.platform.output import exit_on_error, print_json
from app.records.cli import require_store
from app.reviews.settings import as_json, review_settings, update_review_settings


@click.group("reviews", cls=AppGroup, help="The review programme.")
def reviews_cli() -> None:
    pass


@reviews_cli.group("settings", help="Show or change a store's review settings.")
def settings_group() -> None:
    pass


@settings_group.command("show")
@click.argument("store_ref")
def show_settings(store_ref: str) -> None:
    """The effective settings (defaults filled in) of STORE_REF (an id or domain)."""
    print_json(as_json(review_settings(require_store(store_ref))))


@settings_group.command("set")
@click.argument("store_ref")
@click.option("--json", "patch", required=True, help="A JSON object merged into the settings.")
def set_settings(store_ref: str, patch: str) -> None:
    """Merge a patch into the settings, validate, save; prints the result."""
    store = require_store(store_ref)
    try:
        parsed = json.loads(patch)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--json") from exc
    with exit_on_error(), audit.settings_change(db.session, store, "reviews"):  # SettingsError names the field
        settings = update_review_settings(db.session, store, parsed)
    db.session.commit()
    print_json(as_json(settings))
