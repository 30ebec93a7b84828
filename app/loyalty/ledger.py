"""The points ledger: append rows (holds, releases, action awards), move them; re-exports balances and refresh.

Rows are appended, never changed in amount (see app/loyalty/models/ledger.py). Every write goes through
append(), which checks the (store, source_key) first: the writers run inside the per-store lock
the inbox holds (platform.locks.lock_store) or the scheduler takes, so check-then-insert is enough;
the unique constraint is the backstop under a race, and its IntegrityError makes the inbox re-apply
the whole delivery from a clean transaction, which then finds the row and writes nothing.

Balances (loyalty/balance.py) and the per-customer cache refresh (loyalty/refresh.py)
live in modules of their own; their public names are re-exported here, where callers import them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from app.loyalty.balance import (
    ACTIVITY_KINDS,
    EARNED_KINDS,
    Balance,
    InsufficientPoints,
    add_months,
    balance,
    compute,
    customer_rows,
    storefront_balance,
)
from app.loyalty.models import LoyaltyAccount, PointsLedger
from app.loyalty.refresh import refresh_account, refresh_accounts
from app.loyalty.settings import get_settings
from app.platform.types import utcnow
from app.records import batch_rows
from app.records.bulk import writes_customers
from app.records.customers import MergeHook
from app.records.models import Customer
from app.stores.models import Store

__all__ = [
    "ACTIVITY_KINDS",
    "EARNED_KINDS",
    "GIVE_BACK_SUFFIXES",
    "Balance",
    "InsufficientPoints",
    "add_months",
    "append",
    "award_action",
    "award_birthday",
    "balance",
    "storefront_balance",
    "compute",
    "customer_rows",
    "find_row",
    "hold_points",
    "move_rows",
    "refresh_account",
    "refresh_accounts",
    "release_hold",
]

log = logging.getLogger(__name__)


def find_row(session: Session, store: Store, source_key: str) -> PointsLedger | None:
    if (known := batch_rows.lookup(session, store.id, "ledger", source_key)) is not batch_rows.MISS:
        return known
    stmt = select(PointsLedger).where(PointsLedger.store_id == store.id, PointsLedger.source_key == source_key)
    return session.scalar(stmt)


def append(
    session: Session,
    store: Store,
    *,
    customer_id: int,
    source_key: str,
    kind: str,
    points: int,
    now: datetime,
    rule: dict[str, Any] | None = None,
    order_platform_id: str | None = None,
    available_at: datetime | None = None,
    known: set[str] | None = None,
) -> PointsLedger | None:
    """Append one row; None (and nothing written) if the source key already has one. The caller refreshes.

    `known`: every source key that could collide, already loaded by the caller (the batch path): no lookup
    and no flush here; the key is added to it.
    """
    if known is not None:
        if source_key in known:
            return None
        known.add(source_key)
    elif find_row(session, store, source_key) is not None:
        return None
    row = PointsLedger(
        store_id=store.id,
        customer_id=customer_id,
        source_key=source_key,
        kind=kind,
        points=int(points),
        order_platform_id=order_platform_id,
        rule=rule or {},
        available_at=available_at,
        created_at=now,
    )
    session.add(row)
    batch_rows.remember(session, store.id, "ledger", source_key, row)
    if known is None and not batch_rows.active(session, store.id):
        session.flush()  # in a batch the row goes out with the others: find_row answers from the map
    # DEBUG, not INFO: a line per ledger row is noise at Black Friday volume; the drain job logs its counts.
    log.debug("loyalty.appended", extra={"store_id": store.id, "customer_id": customer_id, "kind": kind})
    return row


def hold_points(
    session: Session,
    store: Store,
    customer: Customer,
    points: int,
    source_key: str,
    rule: dict[str, Any],
    now: datetime | None = None,
) -> PointsLedger:
    """A redemption hold (kind redeem, negative). Idempotent: the same key returns the row already held."""
    if points <= 0:
        raise ValueError("a hold takes a positive number of points")
    existing = find_row(session, store, source_key)
    if existing is not None:
        return existing
    now = now or utcnow()
    spendable = balance(session, store, customer, now).spendable
    if spendable < points:
        raise InsufficientPoints(spendable, points)
    row = append(
        session,
        store,
        customer_id=customer.id,
        source_key=source_key,
        kind="redeem",
        points=-points,
        now=now,
        rule=rule,
    )
    assert row is not None
    refresh_account(session, store, customer.id, now)
    return row


#: The suffixes of the rows that give a hold back; at most one of them is ever written per hold.
GIVE_BACK_SUFFIXES = ("release", "refund")


def release_hold(
    session: Session,
    store: Store,
    source_key_of_hold: str,
    reason: str,
    now: datetime | None = None,
    *,
    suffix: str = "release",
) -> PointsLedger | None:
    """Give a hold's points back, once: `<key>:release` (the code failed to be created) or `<key>:refund`
    (the order that used the code was cancelled). Idempotent, and never both for one hold."""
    if suffix not in GIVE_BACK_SUFFIXES:
        raise ValueError(f"suffix must be one of {GIVE_BACK_SUFFIXES}")
    hold = find_row(session, store, source_key_of_hold)
    if hold is None or hold.kind != "redeem":
        return None
    if any(find_row(session, store, f"{source_key_of_hold}:{s}") is not None for s in GIVE_BACK_SUFFIXES):
        return None
    now = now or utcnow()
    row = append(
        session,
        store,
        customer_id=hold.customer_id,
        source_key=f"{source_key_of_hold}:{suffix}",
        kind="redeem_release",
        points=-hold.points,
        now=now,
        rule={"reason": reason[:64]},
        available_at=now,
    )
    if row is not None:
        refresh_account(session, store, hold.customer_id, now)
    return row


def award_action(
    session: Session, store: Store, customer: Customer, action: str, ref: str, now: datetime | None = None
) -> PointsLedger | None:
    """Points for an action (signup, review, birthday), once per (action, ref); None if off or already given."""
    settings = get_settings(store)
    points = settings.actions.get(action)
    if points is None:
        raise ValueError(f"unknown action {action!r}")
    if not settings.enabled or points == 0:
        return None
    now = now or utcnow()
    row = append(
        session,
        store,
        customer_id=customer.id,
        source_key=f"action:{action}:{ref}",
        kind="action",
        points=points,
        now=now,
        rule={"action": action, "points": str(points)},
        available_at=now,
    )
    if row is not None:
        refresh_account(session, store, customer.id, now)
    return row


def award_birthday(session: Session, store: Store, customer: Customer, year: int, now: datetime | None = None):
    """The yearly birthday reward; the scheduler (or the birthday feature) calls it once a year per customer."""
    return award_action(session, store, customer, "birthday", f"{customer.id}:{year}", now)


def move_rows(session: Session, store: Store, from_customer_id: int, to_customer_id: int) -> int:
    """Rows follow the customer (a guest merged into an account). Amounts do not change."""
    # DML returns a CursorResult (rowcount); execute() is typed Result
    moved = cast(
        "CursorResult[Any]",
        session.execute(
            update(PointsLedger)
            .where(PointsLedger.store_id == store.id, PointsLedger.customer_id == from_customer_id)
            .values(customer_id=to_customer_id)
            .execution_options(
                synchronize_session="fetch", **writes_customers(store.id, [from_customer_id, to_customer_id])
            )
        ),
    ).rowcount
    return int(moved or 0)


def _move_guest(session: Session, store: Store, guest_id: int, account_id: int) -> None:
    """A guest merged into an account: the guest's points go to the account (and become spendable there: an
    account holds nothing back); the guest's cached sums go with the guest."""
    move_rows(session, store, guest_id, account_id)
    session.execute(
        delete(LoyaltyAccount)
        .where(LoyaltyAccount.store_id == store.id, LoyaltyAccount.customer_id == guest_id)
        .execution_options(**writes_customers(store.id, [guest_id]))
    )


def _merged(session: Session, store: Store, account: Customer) -> None:
    refresh_account(session, store, account.id, utcnow())  # after the totals: tiers read amounts spent


#: Registered by loyalty's init_app with records/customers.register_merge_hook.
MERGE_HOOK = MergeHook(move=_move_guest, merged=_merged)
