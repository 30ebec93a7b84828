"""`flask stores admin-link <store>`: a one-time link into the dashboard (how a WooCommerce merchant signs in)."""

from __future__ import annotations

import click

from app.admin import audit
from app.dashboard.session import link_ttl, login_url
from app.extensions import db
from app.platform.output import print_json
from app.records.cli import stores_cli
from app.stores.service import find_store


@stores_cli.command("admin-link")
@click.argument("store_ref")
def admin_link(store_ref: str) -> None:
    """Print a dashboard sign-in link for STORE_REF (id, shop domain or site URL): single use, short-lived."""
    store = find_store(db.session, store_ref)
    if store is None or store.status != "active":
        raise click.BadParameter(f"no active store {store_ref!r}")
    url, fingerprint = login_url(store)
    # Its issue is a row (kind "cli"); what its session does is signed by the same fingerprint (audit.py).
    audit.record(db.session, store, "dashboard_link.issue", f"dashboard_link:{fingerprint}")
    db.session.commit()
    print_json({"store_id": store.id, "url": url, "expires_in": link_ttl()})
