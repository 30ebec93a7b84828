"""The balance write-back outbox: which customers' points/tier the store's copy is behind on.

refresh_account() (loyalty/refresh.py) calls mark_dirty() whenever a customer's cached spendable
balance or tier changes; the job loyalty/writeback_tasks.push_balances copies them to the store (Shopify
metafields loyalty.points_balance / loyalty.tier, WooCommerce customer meta) and deletes a row only if its
generation did not move while it was sending. Guests have no platform customer to write to: never marked.
Writers run under the per-store lock (the inbox's, the scheduler's, redeem's), so check-then-insert holds;
the unique (store_id, customer_id) is the backstop.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.orm import Session

from app.loyalty.models import LoyaltyWriteback
from app.records.models import Customer
from app.stores.models import Store


def mark_dirty(
    session: Session, store: Store, customer: Customer, now: datetime, loaded: dict[int, LoyaltyWriteback] | None = None
) -> LoyaltyWriteback | None:
    """Record that the customer's balance or tier changed (None for guests: nothing to write to).

    `loaded`: the rows of the customers being refreshed, read in one query by the caller (refresh_accounts);
    a customer missing from it has none. The batch path then leaves the write to its single flush."""
    if customer.is_guest:
        return None
    if loaded is not None:
        row = loaded.get(customer.id)
    else:
        stmt = select(LoyaltyWriteback).where(
            LoyaltyWriteback.store_id == store.id, LoyaltyWriteback.customer_id == customer.id
        )
        row = session.scalar(stmt)
    if row is None:
        row = LoyaltyWriteback(store_id=store.id, customer_id=customer.id, dirty_since=now, generation=1, attempts=0)
        session.add(row)
        if loaded is not None:
            loaded[customer.id] = row
    else:
        row.generation += 1
        row.next_attempt_at = None  # a new value is worth trying at once
    if loaded is None:
        session.flush()
    return row


def due_rows(session: Session, store: Store, now: datetime, limit: int) -> list[LoyaltyWriteback]:
    stmt = (
        select(LoyaltyWriteback)
        .where(
            LoyaltyWriteback.store_id == store.id,
            or_(LoyaltyWriteback.next_attempt_at.is_(None), LoyaltyWriteback.next_attempt_at <= now),
        )
        .order_by(LoyaltyWriteback.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def clear(session: Session, store: Store, sent: dict[int, int]) -> int:
    """Delete the rows sent (id -> generation sent) unless re-dirtied meanwhile; returns how many."""
    cleared = 0
    for row_id, generation in sent.items():
        result = session.execute(
            delete(LoyaltyWriteback).where(
                LoyaltyWriteback.store_id == store.id,
                LoyaltyWriteback.id == row_id,
                LoyaltyWriteback.generation == generation,
            )
        )
        cleared += int(cast("CursorResult[Any]", result).rowcount or 0)  # DML: a CursorResult; typed Result
    return cleared


def postpone(session: Session, store: Store, row_ids: list[int] | None, until: datetime, error: str | None) -> None:
    """Push rows (all of the store's when row_ids is None) to `until`, counting an attempt when error is set."""
    stmt = update(LoyaltyWriteback).where(LoyaltyWriteback.store_id == store.id)
    if row_ids is not None:
        stmt = stmt.where(LoyaltyWriteback.id.in_(row_ids))
    values: dict = {"next_attempt_at": until}
    if error is not None:
        values |= {"attempts": LoyaltyWriteback.attempts + 1, "last_error": error[:2000]}
    session.execute(stmt.values(**values))


def stores_due(session: Session, now: datetime) -> list[int]:
    stmt = select(LoyaltyWriteback.store_id).where(
        or_(LoyaltyWriteback.next_attempt_at.is_(None), LoyaltyWriteback.next_attempt_at <= now)
    )
    return sorted(set(session.scalars(stmt.distinct())))
