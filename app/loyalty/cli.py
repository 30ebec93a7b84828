"""`flask loyalty settings show|set`, `report`, `customer`, `redeem`, `tiers apply`, `rebuild-rollup`: the programme
as JSON for the merchant."""

from __future__ import annotations

import json
import uuid

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.admin import audit
from app.extensions import db
from app.loyalty.adjustments import customer_summary
from app.loyalty.redemptions import as_dict, redeem
from app.loyalty.report import liability_report
from app.loyalty.settings import as_json, get_settings, update_settings
from app.platform.output import exit_on_error, print_json
from app.platform.progress import Progress
from app.platform.types import utcnow
from app.records.cli import require_store
from app.records.models import Customer
from app.records.models.customer import normalise_email
from app.stores.models import Store


@click.group("loyalty", cls=AppGroup, help="The loyalty programme.")
def loyalty_cli() -> None:
    pass


@loyalty_cli.group("settings", help="Show or change a store's loyalty settings.")
def settings_group() -> None:
    pass


@settings_group.command("show")
@click.argument("store_ref")
def show_settings(store_ref: str) -> None:
    """The effective settings (defaults filled in) of STORE_REF (an id or domain)."""
    with exit_on_error(prefix="stored settings are invalid: "):
        print_json(as_json(get_settings(require_store(store_ref))))


@settings_group.command("set")
@click.argument("store_ref")
@click.option("--json", "patch", required=True, help="A JSON object merged into the settings.")
def set_settings(store_ref: str, patch: str) -> None:
    """Merge a patch into the settings, validate, save; prints the result."""
    store = require_store(store_ref)
    try:
        parsed = json.loads(patch, parse_float=str)  # decimals stay exact: 0.01 arrives as "0.01"
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--json") from exc
    with exit_on_error(), audit.settings_change(db.session, store, "loyalty"):
        settings = update_settings(db.session, store, parsed)
    db.session.commit()
    print_json(as_json(settings))


@loyalty_cli.command("report")
@click.argument("store_ref")
def report_command(store_ref: str) -> None:
    """The points liability of STORE_REF per currency (see loyalty/report.py)."""
    store = require_store(store_ref)
    print_json(liability_report(db.session, store, utcnow()))


@loyalty_cli.command("rebuild-rollup")
@click.argument("store_ref")
def rebuild_rollup_command(store_ref: str) -> None:
    """Recount the Overview's daily points rollup of STORE_REF from its ledger (loyalty/points_days.py). The ledger's
    writes keep it; this is for a check or after writing ledger rows by hand."""
    from app.loyalty import points_days

    store = require_store(store_ref)
    points_days.rebuild(db.session, store.id)
    db.session.commit()
    print_json({"store_id": store.id, "rebuilt": True})


def _customer(store: Store, who: str) -> Customer:
    """WHO: an email, a platform customer id, or #<our id>."""
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
    return customer


@loyalty_cli.command("customer")
@click.argument("store_ref")
@click.argument("who")
def customer_command(store_ref: str, who: str) -> None:
    """One customer's points, tier and last ledger rows. WHO: an email, a platform customer id, or #<our id>."""
    store = require_store(store_ref)
    print_json(customer_summary(db.session, store, _customer(store, who), utcnow()))


@loyalty_cli.command("redeem")
@click.argument("store_ref")
@click.argument("who")
@click.argument("reward_id")
@click.option("--idempotency-key", default=None, help="Repeat a redemption safely (default: a new one).")
def redeem_command(store_ref: str, who: str, reward_id: str, idempotency_key: str | None) -> None:
    """Redeem REWARD_ID for WHO (an email, a platform customer id, or #<our id>) in STORE_REF; prints it."""
    from app.loyalty.redemption_tasks import enqueue_issue

    store = require_store(store_ref)
    customer = _customer(store, who)
    now = utcnow()
    with exit_on_error():  # InsufficientPoints, RedemptionError
        redemption = redeem(db.session, store, customer, reward_id, idempotency_key or uuid.uuid4().hex, now)
    if redemption.created_at == now:  # made by this command, not a repeated key
        diff = {"customer_id": customer.id, "reward_id": redemption.reward_id, "points": redemption.points}
        audit.record(db.session, store, "points.redeem", f"redemption:{redemption.id}", diff)
    db.session.commit()
    if redemption.status == "pending":
        enqueue_issue(redemption.id, redemption.store_id)
    print_json(as_dict(redemption))


@loyalty_cli.group("tiers", help="VIP tiers.")
def tiers_group() -> None:
    pass


@tiers_group.command("apply")
@click.argument("store_ref")
def apply_tiers_command(store_ref: str) -> None:
    """Apply the current tier and expiry settings to every account of STORE_REF now (what a settings change
    enqueues; for a change whose job was lost). Progress on standard error; the counts as JSON."""
    from app.loyalty.tier_sweep import account_count, sweep

    store = require_store(store_ref)
    with Progress("tiers apply", account_count(db.session, store.id), unit="accounts") as progress:
        print_json(sweep(db.session, store, utcnow(), on_chunk=lambda n: progress.update(advance=n)))
