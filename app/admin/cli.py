"""`flask stores admin-token`: bearer tokens for the admin API (how WooCommerce merchants sign in to it)."""

from __future__ import annotations

import click

from app.admin.auth import issue_admin_token, revoke_admin_tokens
from app.extensions import db
from app.platform.output import print_json
from app.records.cli import stores_cli
from app.stores.service import find_store


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
        db.session.commit()
    print_json({"store_id": store.id, "token": issue_admin_token(store)})
