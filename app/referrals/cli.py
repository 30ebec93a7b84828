"""`flask referrals report|list|approve|reject|settings`: the referral programme from the command line."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from app.admin import audit
from app.extensions import db
from app.platform.output import exit_on_error, print_json
from app.records.cli import require_store
from app.referrals.service import as_dict, audit_decision, decide, list_referrals, report
from app.referrals.settings import get_settings, update_settings


@click.group("referrals", cls=AppGroup, help="The referral programme.")
def referrals_cli() -> None:
    pass


@referrals_cli.command("report")
@click.argument("store_ref")
def report_command(store_ref: str) -> None:
    """Codes shared, landings, referrals by status and reason, referred revenue per currency (JSON)."""
    print_json(report(db.session, require_store(store_ref)))


@referrals_cli.command("list")
@click.argument("store_ref")
@click.option("--status", default=None)
def list_command(store_ref: str, status: str | None) -> None:
    print_json(list_referrals(db.session, require_store(store_ref), status))


@referrals_cli.command("approve")
@click.argument("store_ref")
@click.argument("referral_id", type=int)
def approve_command(store_ref: str, referral_id: int) -> None:
    _decide(store_ref, referral_id, True)


@referrals_cli.command("reject")
@click.argument("store_ref")
@click.argument("referral_id", type=int)
def reject_command(store_ref: str, referral_id: int) -> None:
    _decide(store_ref, referral_id, False)


def _decide(store_ref: str, referral_id: int, approve: bool) -> None:
    store = require_store(store_ref)
    with exit_on_error(LookupError, prefix=f"cannot decide referral {referral_id}: "):  # and DecisionError
        referral = decide(db.session, store, referral_id, approve=approve, by="merchant:cli")
    audit_decision(db.session, store, referral)
    db.session.commit()
    print_json(as_dict(referral))


@referrals_cli.command("settings")
@click.argument("store_ref")
@click.option("--json", "patch", default=None, help="A JSON object merged into the settings.")
def settings_command(store_ref: str, patch: str | None) -> None:
    """Show the effective settings, or merge a patch into them."""
    store = require_store(store_ref)
    with exit_on_error(json.JSONDecodeError), audit.settings_change(db.session, store, "referrals"):  # SettingsError
        settings = update_settings(db.session, store, json.loads(patch, parse_float=str)) if patch else None
    db.session.commit()
    print_json((settings or get_settings(store)).raw)
