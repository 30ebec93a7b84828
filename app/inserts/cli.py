"""`flask inserts`: print the parcel cards from the command line (the packing table's morning run)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.extensions import db
from app.inserts.cards import MAX_CARDS, parse_day
from app.inserts.service import day_sheet, order_card
from app.records.cli import require_store


@click.group("inserts", cls=AppGroup, help="Printable cards for the parcel (PDF).")
def inserts_cli() -> None:
    pass


@inserts_cli.command("order", help="One order's card (A6).")
@click.argument("store_ref")
@click.argument("order_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def order_command(store_ref: str, order_id: str, output: Path) -> None:
    store = require_store(store_ref)
    data = order_card(db.session, store, order_id)
    if data is None:
        raise click.ClickException(f"no order {order_id!r} in this store")
    db.session.commit()  # a referral code drawn for the card
    output.write_bytes(data)
    click.echo(f"{output} ({len(data)} bytes)")


@inserts_cli.command("day", help="The day's orders (store time zone), four A6 cards per A4 sheet with cut marks.")
@click.argument("store_ref")
@click.option("--date", "day", help="YYYY-MM-DD; default: today in the store's time zone.")
@click.option("--limit", type=click.IntRange(1, MAX_CARDS), default=MAX_CARDS, show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def day_command(store_ref: str, day: str | None, limit: int, output: Path) -> None:
    store = require_store(store_ref)
    try:
        chosen = parse_day(day, store)
    except ValueError:
        raise click.BadParameter("YYYY-MM-DD", param_hint="--date") from None
    data, count = day_sheet(db.session, store, chosen, limit=limit)
    db.session.commit()
    output.write_bytes(data)
    click.echo(f"{output}: {count} cards on {max((count + 3) // 4, 1)} sheets ({len(data)} bytes)")
