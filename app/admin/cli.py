"""`flask stores admin-token`: bearer tokens for the admin API (how WooCommerce merchants sign in to it);
`flask stores settings`: the store-wide settings; `flask stores audit`: the audit log."""

from __future__ import annotations

import json

import click

from app.admin import audit
from app.admin.auth import issue_admin_token, revoke_admin_tokens
from app.extensions import db
from app.platform.output import exit_on_error, print_json
from app.records.cli import require_store, stores_cli
from app.stores.service import find_store
from app.stores.settings import SECTIONS, show_settings, update_store_settings


@stores_cli.command("admin-token")
@click.argument("store_ref")
@click.option("--revoke", is_flag=True, help="Invalidate every admin token issued for the store so far first.")
def admin_token(store_ref: str, revoke: bool) -> None:
    """Print an admin API token for STORE_REF (id, shop domain or site URL); send it as `Authorization: Bearer`."""
    store = find_store(db.session, store_ref)
    if store is None:
        raise click.BadParameter(f"no store {store_ref!r}")
    if revoke:
        revoke_admin_tokens(store)
        audit.record(db.session, store, "admin_token.revoke")
    token = issue_admin_token(store)
    # The token's fingerprint, as the rows of what it does name their actor (audit.current_actor); never the token.
    audit.record(db.session, store, "admin_token.issue", f"admin_token:{audit.token_fingerprint(token)}")
    db.session.commit()
    print_json({"store_id": store.id, "token": token})


@stores_cli.command("settings")
@click.argument("store_ref")
@click.option("--json", "patch", default=None, help='A JSON object of sections, e.g. {"locale": "pl"}.')
def settings_command(store_ref: str, patch: str | None) -> None:
    """Show STORE_REF's store-wide settings (branding, email, locale, storefront), or merge a patch into them."""
    store = require_store(store_ref)
    if patch is not None:
        with exit_on_error(json.JSONDecodeError), audit.settings_change(db.session, store, "store", *sorted(SECTIONS)):
            update_store_settings(db.session, store, json.loads(patch))  # SettingsError names the field
        db.session.commit()
    print_json(show_settings(store))


@stores_cli.command("audit")
@click.argument("store_ref")
@click.option("--limit", type=click.IntRange(1, audit.MAX_PAGE), default=50, show_default=True)
@click.option("--before", type=click.IntRange(1), default=None, help="Continue a page: its next_before.")
@click.option("--action", default=None, help="Only this action, e.g. settings.update.")
def audit_command(store_ref: str, limit: int, before: int | None, action: str | None) -> None:
    """STORE_REF's audit log, newest first (JSON): who did what, when."""
    print_json(audit.page(db.session, require_store(store_ref), limit=limit, before=before, action=action))
