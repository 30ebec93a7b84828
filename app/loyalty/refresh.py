"""The per-customer cache (LoyaltyAccount): recomputed from the ledger rows, never incremented.

Split from loyalty/ledger.py (which re-exports refresh_account and refresh_accounts): one customer
after a write, or many at once for the batch path (inbox/batch_derived.py, under the store lock). Each
refresh also decides the tier, sets the expiry reminder and marks the store's copy of the balance dirty
(loyalty/writeback.py) when spendable or tier changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.balance import Balance, compute, customer_rows
from app.loyalty.models import LoyaltyAccount, LoyaltyWriteback, PointsLedger
from app.loyalty.settings import LoyaltySettings, get_settings
from app.loyalty.writeback import mark_dirty
from app.platform.sql import chunks, in_keys, set_together
from app.records import batch_scope, customers
from app.records.models import Customer
from app.stores.models import Store

#: The batch's marks (records/batch_scope.py) of the (store id, customer id) whose account is due: each is
#: refreshed once, with the batch's other accounts, before the batch commits (loyalty/follower.py).
DEFERRED_ACCOUNTS = "loyalty.deferred_accounts"
#: The same for the accounts of a history import's past orders written set-based (loyalty/imported_orders.py):
#: refreshed by statements (loyalty/account_rows.py), unless the batch refreshes them through the ORM anyway.
IMPORTED_ACCOUNTS = "loyalty.imported_accounts"


def refresh_account(session: Session, store: Store, customer_id: int, now: datetime) -> LoyaltyAccount | None:
    """Recompute the customer's cached sums from their rows (never incremented), and decide the tier.

    In a batch, only marked (None): refresh_accounts does it once per customer before the commit."""
    batch = batch_scope.current(session)
    if batch is not None:
        batch.marks(DEFERRED_ACCOUNTS).add((store.id, customer_id))
        return None
    customer = customers.store_customer(session, store, customer_id)
    if customer is None:
        return None
    stmt = select(LoyaltyAccount).where(LoyaltyAccount.store_id == store.id, LoyaltyAccount.customer_id == customer_id)
    account = session.scalar(stmt.with_for_update())
    if account is None:
        account = LoyaltyAccount(store_id=store.id, customer_id=customer_id)
        session.add(account)
    _refresh(session, store, customer, account, customer_rows(session, store, customer_id), get_settings(store), now)
    session.flush()
    return account


def refresh_accounts(session: Session, store: Store, customer_ids: set[int], now: datetime) -> None:
    """refresh_account for many customers: four queries per 500 (the batch path, under the store lock)."""
    refresh_accounts_of(session, {store.id: store}, {(store.id, cid) for cid in customer_ids}, now)


def refresh_accounts_of(session: Session, stores: dict[int, Store], due: set[tuple[int, int]], now: datetime) -> None:
    """refresh_accounts for (store id, customer id) of several stores whose locks the batch holds (an inbox group,
    inbox/batch_group.py): four queries per 500 for all of them, `store_id IN (...) AND customer_id IN (...)`
    (customer ids are the table's own: each row is its customer's store's)."""
    store_ids = sorted({sid for sid, _ in due})
    settings = {sid: get_settings(stores[sid]) for sid in store_ids}
    for chunk in chunks(sorted({cid for _, cid in due})):
        found = session.scalars(
            select(Customer).where(in_keys(session, Customer.store_id, store_ids), in_keys(session, Customer.id, chunk))
        ).all()
        accounts = {
            a.customer_id: a
            for a in session.scalars(
                select(LoyaltyAccount).where(
                    in_keys(session, LoyaltyAccount.store_id, store_ids),
                    in_keys(session, LoyaltyAccount.customer_id, chunk),
                )
            )
        }
        rows: dict[int, list[PointsLedger]] = defaultdict(list)
        for row in session.scalars(
            select(PointsLedger)
            .where(
                in_keys(session, PointsLedger.store_id, store_ids), in_keys(session, PointsLedger.customer_id, chunk)
            )
            .order_by(PointsLedger.id)
        ):
            rows[row.customer_id].append(row)
        stmt = select(LoyaltyWriteback).where(
            in_keys(session, LoyaltyWriteback.store_id, store_ids),
            in_keys(session, LoyaltyWriteback.customer_id, chunk),
        )
        writebacks = {w.customer_id: w for w in session.scalars(stmt)}
        for customer in found:  # a merged guest is gone: not found, nothing to refresh
            if (customer.store_id, customer.id) not in due:
                continue
            store = stores[customer.store_id]
            account = accounts.get(customer.id)
            if account is None:
                account = LoyaltyAccount(store_id=store.id, customer_id=customer.id)
                session.add(account)
            _refresh(session, store, customer, account, rows[customer.id], settings[store.id], now, writebacks)


class TierRule:
    """The tier decision every refresh makes first (tiers.apply_tiers: True when it appended a reward row), set by
    the loyalty package's init_app. Registered rather than imported: tiers build on this module (they append
    their reward rows through the ledger, which refreshes), so this module names no tier code."""

    apply: Callable[..., bool] | None = None


def _refresh(
    session: Session,
    store: Store,
    customer: Customer,
    account: LoyaltyAccount,
    rows: list[PointsLedger],
    settings: LoyaltySettings,
    now: datetime,
    writebacks: dict[int, LoyaltyWriteback] | None = None,
) -> None:
    """One account from its rows: the tier decision, the cached sums, the reminder, the store's copy marked."""
    before = (account.spendable, account.tier)  # (None, None) for an account just created
    if settings.enabled and TierRule.apply is not None:
        if TierRule.apply(session, store, customer, account, rows, settings, now):
            rows = customer_rows(session, store, customer.id)  # a tier reward was appended
    _store_balance(account, compute(rows, now, guest=customer.is_guest, settings=settings))
    _set_reminder(account, settings, now)
    set_together(account, _ACCOUNT_COLUMNS)  # refreshed_at always changes: the row is written anyway
    if (account.spendable, account.tier) != before:
        mark_dirty(session, store, customer, now, writebacks)  # the store's copy (metafield / meta) is behind


_ACCOUNT_COLUMNS = (
    "balance",
    "pending",
    "spendable",
    "held",
    "lifetime_earned",
    "last_activity_at",
    "expires_at",
    "reminder_due_at",
    "refreshed_at",
    "tier",
)


def _store_balance(account: LoyaltyAccount, result: Balance) -> None:
    account.balance, account.pending, account.spendable = result.total, result.pending, result.spendable
    account.held, account.lifetime_earned = result.held, result.lifetime_earned
    account.last_activity_at, account.expires_at = result.last_activity_at, result.expires_at


def _set_reminder(account: LoyaltyAccount, settings: LoyaltySettings, now: datetime) -> None:
    account.reminder_due_at = (
        account.expires_at - timedelta(days=settings.reminder_days)
        if account.expires_at is not None and settings.reminder_days
        else None
    )
    account.refreshed_at = now
