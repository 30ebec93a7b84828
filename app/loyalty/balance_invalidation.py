"""Which customers' cached balances a commit invalidates: SQLAlchemy session events, not call sites.

A storefront balance answer (kept by each web process, loyalty/balance_cache.py) depends on the customer row
(its platform id), the customer's points ledger rows, loyalty account (tier) and orders (tier progress on amount
spent). Rather than trusting every writer to remember a call, every Session is watched:

- after each flush, the objects of those four classes that were inserted, changed or deleted name their
  customers (a changed `customer_id` names the old and the new one; a customer row names its old and new
  platform id);
- a bulk UPDATE/DELETE/INSERT statement on those tables names its customers through the execution option
  of records/bulk.writes_customers; one that does not invalidates every copy;
- after the commit the named customers' copies are dropped, in this process at once and in the others through
  the log their syncs read (`balance_cache.bump`); a rollback forgets them.

The balance is read by platform id, so customer ids are mapped to platform ids while the transaction is open:
from the session's identity map (the webhook batch has its customers loaded), else one query per flush.
Guests have no platform id and no storefront balance; their rows move to an account by a named bulk update.
"""

from __future__ import annotations

from typing import Any

from flask import has_app_context
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from app.loyalty import balance_cache
from app.loyalty.models import LoyaltyAccount, PointsLedger
from app.platform.sql import chunks
from app.records import bulk
from app.records.bulk import OPTION
from app.records.models import Customer, Order

WATCHED = (PointsLedger, LoyaltyAccount, Order)  # rows with a customer_id that feed the balance answer
TABLES = frozenset({"points_ledger", "loyalty_accounts", "orders", "customers"})
_PAIRS, _EVERYTHING = "balance_cache.pairs", "balance_cache.everything"


def _history_values(obj: Any, name: str) -> set[Any]:
    history = inspect(obj).attrs[name].history
    values = {*history.added, *history.deleted, *history.unchanged}
    if not values and name in obj.__dict__:
        values.add(obj.__dict__[name])
    return {v for v in values if v is not None}


def _platform_ids(session: Session, store_id: int, customer_ids: set[int]) -> set[tuple[int, str]]:
    return _platform_ids_of(session, {store_id: customer_ids})


def _platform_ids_of(session: Session, by_store: dict[int, set[int]]) -> set[tuple[int, str]]:
    """(store id, platform id) of these customers: the identity map first, one query for the rest, all the
    stores at once (a flush of an inbox group of stores, inbox/batch_group.py, writes several; customer ids are
    the table's own, so `store_id IN (...) AND id IN (...)` finds each in its store)."""
    found: set[tuple[int, str]] = set()
    missing: list[int] = []
    mapper = inspect(Customer)
    for store_id, customer_ids in by_store.items():
        for customer_id in customer_ids:
            customer = session.identity_map.get(mapper.identity_key_from_primary_key((customer_id,)))
            if customer is not None and "platform_id" in customer.__dict__:
                if customer.__dict__["platform_id"] is not None:
                    found.add((store_id, customer.__dict__["platform_id"]))
            else:
                missing.append(customer_id)
    stores = sorted(by_store)
    for part in chunks(missing):  # 500 ids a query: under SQLite's 999 parameters before 3.32
        stmt = select(Customer.store_id, Customer.platform_id).where(
            Customer.store_id.in_(stores) if len(stores) > 1 else Customer.store_id == stores[0], Customer.id.in_(part)
        )
        found.update((sid, pid) for sid, pid in session.connection().execute(stmt) if pid is not None)
    return found


def _pairs(session: Session) -> set[tuple[int, str]]:
    return session.info.setdefault(_PAIRS, set())


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    by_store: dict[int, set[int]] = {}
    pairs = _pairs(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, WATCHED):
            customer_ids = _history_values(obj, "customer_id")
            if not customer_ids and obj in session.deleted:
                session.info[_EVERYTHING] = True  # deleted without its customer_id loaded: cannot name them
            by_store.setdefault(obj.store_id, set()).update(customer_ids)
        elif isinstance(obj, Customer):
            pairs.update((obj.store_id, pid) for pid in _history_values(obj, "platform_id"))
    if by_store:
        pairs.update(_platform_ids_of(session, by_store))


def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) not in TABLES:
        return
    named = state.execution_options.get(OPTION)
    if named is None:
        state.session.info[_EVERYTHING] = True  # a bulk write we cannot attribute: every copy goes
        return
    store_id, customer_ids = named
    _named(state.session, store_id, set(customer_ids))


def _named(session: Session, store_id: int, customer_ids: set[int]) -> None:
    _pairs(session).update(_platform_ids(session, store_id, customer_ids))


def _after_commit(session: Session) -> None:
    pairs, everything = session.info.pop(_PAIRS, None), session.info.pop(_EVERYTHING, False)
    if (pairs or everything) and has_app_context():  # Redis is the app's; no app, no cache to keep exact
        balance_cache.bump(pairs or (), everything)


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_PAIRS, None)
    session.info.pop(_EVERYTHING, None)


def pending(session: Session) -> bool:
    """True if this session holds writes that would invalidate a balance (a read now would see uncommitted
    rows: its answer must not be cached)."""
    info = session.info
    return bool(session.new or session.dirty or session.deleted or info.get(_PAIRS) or info.get(_EVERYTHING))


def install() -> None:
    """Listen on every Session (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _forget)
    if _named not in bulk.LISTENERS:
        bulk.LISTENERS.append(_named)
