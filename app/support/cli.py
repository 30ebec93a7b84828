"""`flask support messages|handled|unread|settings`: shoppers' messages to the merchant from the command line."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from app.admin import audit
from app.extensions import db
from app.messaging.api import mail_now
from app.platform.output import exit_on_error, print_json
from app.records.cli import require_store
from app.support.models import HANDLED, KINDS, STATUSES, UNREAD
from app.support.service import as_dicts, find, hand_over_waiting, list_messages, mark
from app.support.settings import as_json, update_settings


@click.group("support", cls=AppGroup, help="What shoppers send the merchant: help messages, low-rating alerts.")
def support_cli() -> None:
    pass


@support_cli.command("messages")
@click.argument("store_ref")
@click.option("--status", type=click.Choice(STATUSES), default=None)
@click.option("--kind", type=click.Choice(KINDS), default=None)
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@click.option("--before", type=click.IntRange(1), default=None, help="Continue a page: its next_before.")
def messages_command(store_ref: str, status: str | None, kind: str | None, limit: int, before: int | None) -> None:
    """The store's messages, newest first (JSON)."""
    store = require_store(store_ref)
    print_json(list_messages(db.session, store, status=status, kind=kind, limit=limit, before=before))


def _mark(store_ref: str, support_id: int, status: str) -> None:
    store = require_store(store_ref)
    with exit_on_error(LookupError, prefix=f"no message {support_id} in this store"):
        before = find(db.session, store, support_id).status
        row = mark(db.session, store, support_id, status, mail_now(current_app))
    audit.record(db.session, store, f"support.{status}", f"support_message:{row.id}", {"status": [before, status]})
    db.session.commit()
    print_json(as_dicts(db.session, store, [row])[0])


@support_cli.command("handled")
@click.argument("store_ref")
@click.argument("support_id", type=int)
def handled_command(store_ref: str, support_id: int) -> None:
    """Mark a message handled."""
    _mark(store_ref, support_id, HANDLED)


@support_cli.command("unread")
@click.argument("store_ref")
@click.argument("support_id", type=int)
def unread_command(store_ref: str, support_id: int) -> None:
    """Mark a message unread again."""
    _mark(store_ref, support_id, UNREAD)


@support_cli.command("settings")
@click.argument("store_ref")
@click.option("--json", "patch", default=None, help='A JSON object, e.g. {"notify_emails": ["owner@shop.example"]}.')
def settings_command(store_ref: str, patch: str | None) -> None:
    """Show where messages go, or set the notification list (messages waiting for an address go out at once)."""
    store = require_store(store_ref)
    if patch is None:
        print_json(as_json(store))
        return
    with exit_on_error(json.JSONDecodeError), audit.settings_change(db.session, store, "support"):  # and SettingsError
        settings = update_settings(db.session, store, json.loads(patch))
    handed = hand_over_waiting(db.session, store, mail_now(current_app))
    db.session.commit()
    print_json({**settings, "handed_over": handed})
