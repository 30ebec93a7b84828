"""A store's imported history: what the followers may do with past orders, and the import's bookkeeping.

An order is *past* when it was placed before the store's history cut-off (the moment its import was set up:
records/models/history.py). Whether an order is past depends on the order alone, not on the path that recorded
it, so an order imported and then updated by a webhook, or the other way round, ends the same
(DESIGN.md, "Why events are snapshots"). records/followers.py hands a past order only to the followers that take
it: loyalty, when the merchant chose points for past orders; never reviews or referrals, so no past order ever
sends a review request, a referral reward or any message that follows from them. docs/history-import.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, scoped_session

from app.errors import Conflict
from app.records.models import HistoryImport, Order

#: session.info key: (the transaction, {store id: its Policy or None}), read once per transaction.
_POLICIES = "records.history_policies"


@dataclass(frozen=True, slots=True)
class Policy:
    """What the merchant chose for the store's past orders."""

    cutoff_at: datetime
    earn_points: bool
    tiers_from_past: bool

    def past(self, order: Order) -> bool:
        return self.past_at(order.placed_at)

    def past_at(self, placed_at: datetime) -> bool:
        """Whether an order placed then is past (the bulk import asks before the order row exists)."""
        return placed_at < self.cutoff_at


def _cache(session: Session) -> dict[int, Policy | None]:
    real = session() if isinstance(session, scoped_session) else session  # db.session is a scoped_session
    transaction = real.get_transaction()
    held = session.info.get(_POLICIES)
    if held is None or held[0] is not transaction:  # read once per transaction: another process may set one up
        held = session.info[_POLICIES] = (transaction, {})
    return held[1]


#: The policy's columns, for a caller that reads them with the store's row (`known_policy`).
POLICY_COLUMNS = (HistoryImport.cutoff_at, HistoryImport.earn_points, HistoryImport.tiers_from_past)


def policy(session: Session, store_id: int) -> Policy | None:
    """The store's policy for past orders, None when it never imported its history (every order is present)."""
    cache = _cache(session)
    if store_id not in cache:
        row = session.execute(select(*POLICY_COLUMNS).where(HistoryImport.store_id == store_id)).first()
        cache[store_id] = Policy(*row) if row is not None else None
    return cache[store_id]


def known_policy(session: Session, store_id: int, row: tuple | None) -> None:
    """The store's POLICY_COLUMNS as read in this transaction (None: no import row), so `policy` reads none: the
    inbox batch reads them with the store's row, one statement fewer per store part (inbox/batch.py)."""
    _cache(session)[store_id] = Policy(*row) if row is not None and row[0] is not None else None


def forget_policy(session: Session, store_id: int) -> None:
    """Drop the cached policy (an import set up or changed in this session)."""
    held = session.info.get(_POLICIES)
    if held is not None:
        held[1].pop(store_id, None)


def is_past(session: Session, order: Order) -> bool:
    found = policy(session, order.store_id)
    return found is not None and found.past(order)


def history_import(session: Session, store_id: int) -> HistoryImport | None:
    return session.scalar(select(HistoryImport).where(HistoryImport.store_id == store_id))


def set_up(
    session: Session, store_id: int, *, earn_points: bool, tiers_from_past: bool, now: datetime
) -> tuple[HistoryImport, bool]:
    """The store's import row, created queued with the merchant's choices and the cut-off `now`; (row, created).
    An existing row is returned as it is: the choices and the cut-off hold from the first set-up, since the
    ledger rows already written followed them."""
    row = history_import(session, store_id)
    if row is not None:
        return row, False
    row = HistoryImport(
        store_id=store_id,
        status="queued",
        earn_points=earn_points,
        tiers_from_past=tiers_from_past,
        cutoff_at=now,
        phase="customers",
        cursor={},
        customers_done=0,
        orders_done=0,
        failed=0,
    )
    try:
        with session.begin_nested():  # the unique store_id decides between two set-ups at once
            session.add(row)
    except IntegrityError:
        found = history_import(session, store_id)
        assert found is not None
        return found, False
    forget_policy(session, store_id)
    return row, True


class ChoicesFixed(Conflict):
    """The import has applied orders already: what they earned followed the choices made then."""

    code = "choices_fixed"


def change_choices(session: Session, row: HistoryImport, *, earn_points: bool, tiers_from_past: bool) -> None:
    """The merchant's choices, changeable until the first order is applied (the caller holds no lock: the
    runner's chunk that applies orders re-reads them under the store's lock, through `policy`)."""
    if (row.earn_points, row.tiers_from_past) == (earn_points, tiers_from_past):
        return
    if row.orders_done > 0 or row.status == "done":
        raise ChoicesFixed("past orders were imported with the choices made then")
    row.earn_points, row.tiers_from_past = earn_points, tiers_from_past
    forget_policy(session, row.store_id)
