"""`flask stores storefront-secret`: the keys a store's widgets and WordPress plugin need."""

from __future__ import annotations

import click

from app.admin import audit
from app.extensions import db
from app.platform.output import print_json
from app.records.cli import stores_cli
from app.security import secret_box
from app.stores.service import find_store
from app.stores.storefront_keys import ensure_keys


@stores_cli.command("storefront-secret")
@click.argument("store_ref")
@click.option("--rotate", is_flag=True, help="Replace the secret: tokens signed with the old one stop working.")
def storefront_secret(store_ref: str, rotate: bool) -> None:
    """Print STORE_REF's storefront secret (for the merchant's plugin settings) and public store key.

    Both are generated on first use and kept in the store's encrypted credentials.
    """
    store = find_store(db.session, store_ref)
    if store is None:
        raise click.BadParameter(f"no store {store_ref!r}")
    keys = ensure_keys(db.session, secret_box(), store, rotate=rotate)
    if rotate:  # a credential changed (never written to the log itself)
        audit.record(db.session, store, "storefront_secret.rotate")
    db.session.commit()
    print_json({"store_id": store.id, "public_key": keys.public_key, "secret": keys.secret, "rotated": rotate})
