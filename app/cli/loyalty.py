"""`flask loyalty settings show|set` (the programme settings as JSON) and `flask loyalty redeem`."""

from __future__ import annotations

import json
import uuid

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import Customer, Store
from ..models.types import utcnow
from ..services.customers import normalise_email
from ..services.loyalty import InsufficientPoints
from ..services.loyalty_settings import SettingsError, as_json, get_settings, update_settings
from ..services.redemptions import RedemptionError, as_dict, redeem
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


@loyalty_cli.command("redeem")
@click.argument("store_ref")
@click.argument("who")
@click.argument("reward_id")
@click.option("--idempotency-key", default=None, help="Repeat a redemption safely (default: a new one).")
def redeem_command(store_ref: str, who: str, reward_id: str, idempotency_key: str | None) -> None:
    """Redeem REWARD_ID for WHO (an email, a platform customer id, or our customer id) in STORE_REF; prints it."""
    from ..tasks.redemptions import enqueue_issue

    store = _store(store_ref)
    key = normalise_email(who)
    match = Customer.email_key == key if key else Customer.platform_id == who
    customer = db.session.scalar(select(Customer).where(Customer.store_id == store.id, match))
    if customer is None and who.isdigit():
        found = db.session.get(Customer, int(who))
        customer = found if found is not None and found.store_id == store.id else None
    if customer is None:
        raise click.ClickException(f"no customer {who!r} in store {store.domain}")
    try:
        redemption = redeem(db.session, store, customer, reward_id, idempotency_key or uuid.uuid4().hex, utcnow())
    except InsufficientPoints as exc:
        db.session.rollback()
        raise click.ClickException(f"insufficient points: spendable {exc.spendable}, costs {exc.wanted}") from exc
    except RedemptionError as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc.key}: {exc.message}") from exc
    db.session.commit()
    if redemption.status == "pending":
        enqueue_issue(redemption.id)
    print_json(as_dict(redemption))
