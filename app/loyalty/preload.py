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
from app.records.batch_rows import sorted_chunks
from connectors.events import CustomerChanged, Event, OrderChanged


def signup_key(platform_id: str) -> str:
    """The source key of an account's signup reward (ledger.award_action's `action:<action>:<ref>`)."""
    return f"action:signup:{platform_id}"


def preload(session: Session, store_id: int, events: Sequence[Event], maps: dict[str, Any]) -> None:
    wanted = {
        signup_key(e.customer.platform_id) for e in events if isinstance(e, CustomerChanged) and e.customer.platform_id
    }
    found = maps["ledger"]
    found.update(dict.fromkeys(wanted))
    for chunk in sorted_chunks(wanted):
        stmt = select(PointsLedger).where(
            PointsLedger.store_id == store_id, in_keys(session, PointsLedger.source_key, chunk)
        )
        found.update((row.source_key, row) for row in session.scalars(stmt))
    codes = {str(c).upper() for e in events if isinstance(e, OrderChanged) for c in e.order.discount_codes}
    codes |= {str(c).upper() for order in maps["order"].values() if order for c in order.discount_codes or []}
    maps["redemptions"] = _redemptions(session, store_id, codes, set(maps["order"]))


def redemptions(session: Session, store_id: int) -> list[Redemption] | None:
    """Every redemption whose code or used order the store's deliveries (or their held orders) name; None
    outside a batch."""
    maps = batch_rows.store_maps(session, store_id)
    return None if maps is None else maps["redemptions"]


def _redemptions(session: Session, store_id: int, codes: set[str], order_ids: set[str]) -> list[Redemption]:
    found: dict[int, Redemption] = {}
    stmt = select(Redemption).where(Redemption.store_id == store_id)
    for chunk in sorted_chunks(codes):
        found.update((r.id, r) for r in session.scalars(stmt.where(in_keys(session, Redemption.code, chunk))))
    for chunk in sorted_chunks(order_ids):
        found.update(
            (r.id, r) for r in session.scalars(stmt.where(in_keys(session, Redemption.used_order_platform_id, chunk)))
        )
    return list(found.values())


def install() -> None:
    batch_rows.register("ledger", "source_key", preload)
