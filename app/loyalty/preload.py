"""Loyalty's rows in an inbox batch's lookups (records/batch_rows.py), loaded once per store part.

- the signup rewards of the accounts the batch's customer events name (ledger rows by source key), which
  orders.on_customer_changed looks up before awarding one;
- the redemptions whose code the batch's orders (or the orders it holds) carry, or that an order used, which
  redemptions.on_order_event settles.
One query per 500 keys; registered by loyalty's init_app.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.models import PointsLedger, Redemption
from app.platform.sql import in_keys
from app.records import batch_rows
from app.records.batch_rows import by_store
from connectors.events import CustomerChanged, Event, OrderChanged


def signup_key(platform_id: str) -> str:
    """The source key of an account's signup reward (ledger.award_action's `action:<action>:<ref>`)."""
    return f"action:signup:{platform_id}"


def preload(session: Session, group: dict[int, tuple[Sequence[Event], dict[str, Any]]]) -> None:
    """The group's stores at once (records/batch_rows.preload_group): one query per table and 500 keys."""
    wanted = {
        store_id: {
            signup_key(e.customer.platform_id)
            for e in events
            if isinstance(e, CustomerChanged) and e.customer.platform_id
        }
        for store_id, (events, _) in group.items()
    }
    for store_id, (_, maps) in group.items():
        maps["ledger"].update(dict.fromkeys(wanted[store_id]))
    for stores, chunk in by_store(wanted):
        stmt = select(PointsLedger).where(
            in_keys(session, PointsLedger.store_id, stores), in_keys(session, PointsLedger.source_key, chunk)
        )
        for row in session.scalars(stmt):
            if row.source_key in wanted[row.store_id]:
                group[row.store_id][1]["ledger"][row.source_key] = row
    codes, order_ids = {}, {}
    for store_id, (events, maps) in group.items():
        found = {str(c).upper() for e in events if isinstance(e, OrderChanged) for c in e.order.discount_codes}
        found |= {str(c).upper() for order in maps["order"].values() if order for c in order.discount_codes or []}
        codes[store_id], order_ids[store_id] = found, set(maps["order"])
        maps["redemptions"] = []
    for store_id, redemption in _redemptions(session, codes, order_ids):
        group[store_id][1]["redemptions"].append(redemption)


def redemptions(session: Session, store_id: int) -> list[Redemption] | None:
    """Every redemption whose code or used order the store's deliveries (or their held orders) name; None
    outside a batch."""
    maps = batch_rows.store_maps(session, store_id)
    return None if maps is None else maps["redemptions"]


def _redemptions(
    session: Session, codes: dict[int, set[str]], order_ids: dict[int, set[str]]
) -> list[tuple[int, Redemption]]:
    """(store id, redemption) for every redemption whose code or used order its own store named."""
    found: dict[int, Redemption] = {}
    for column, wanted in ((Redemption.code, codes), (Redemption.used_order_platform_id, order_ids)):
        for stores, chunk in by_store(wanted):
            stores_in = in_keys(session, Redemption.store_id, stores)
            stmt = select(Redemption).where(stores_in, in_keys(session, column, chunk))
            found.update((r.id, r) for r in session.scalars(stmt) if getattr(r, column.key) in wanted[r.store_id])
    return [(r.store_id, r) for r in found.values()]


def install() -> None:
    batch_rows.register("ledger", "source_key", preload)
