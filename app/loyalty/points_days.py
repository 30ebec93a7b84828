"""What the Overview's loyalty section reads instead of the ledger: per store and UTC day, the points given and the
points redeemed (`points_days`). docs/dashboard.md ("Speed").

At 1,000,000 orders a year of ledger rows is about 500,000 rows, and summing them by day took 1-2.5 s of the page
(bench/dashboard_overview.py); a year of this rollup is 365 rows.

How it stays exact: the ledger is append-only for what is counted here (loyalty/models/ledger.py: a row's kind,
points and created_at never change; only customer_id and available_at move), and every row is written through the
ORM (loyalty/ledger.append, which every earn, redemption hold and release, expiry, adjustment, action, tier reward
and the history import's batch path go through). So a session event sees every row written as an object:
- after each flush, each ledger row inserted, changed or deleted marks its (store, UTC day) in the session;
- just before the transaction commits (`before_commit`), each marked day is recounted from that day's rows (an
  index range of `ix_points_ledger_store_id_created_at`, which covers kind and points), so the rollup is a
  recomputation, never an increment: a savepoint rolled back or a retried delivery cannot skew it.
The statements that write ledger rows, the history import's set-based signup rewards (loyalty/imported.py) and
past orders' points (loyalty/imported_orders.py), mark their day themselves (`mark`). Rows that go without the ORM
otherwise go by cascade only: a store's with its rollup; a customer's after a guest merge has moved them
(records/customers.merge_into). `rebuild` recomputes a store from scratch (the migration, the bench, `flask loyalty
rebuild-rollup`); tests/loyalty/test_points_days.py compares the two over random histories.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, event, func, insert, inspect, or_, select
from sqlalchemy.orm import Session, UOWTransaction

from app.loyalty.models import PointsDay, PointsLedger
from app.platform.days import day_of, day_ranges, midnight
from app.platform.sql import chunks, in_keys

_KEY = "loyalty.points_days"  # session.info: {store id: {days}}
GIVING = ("earn", "action", "tier_reward")  # and positive adjustments
REDEEMING = ("redeem", "redeem_release")


def issued(ledger: Any = PointsLedger) -> Any:
    """The points a row gives (0 for the others)."""
    gives = or_(ledger.kind.in_(GIVING), and_(ledger.kind == "adjust", ledger.points > 0))
    return case((gives, ledger.points), else_=0)


def redeemed(ledger: Any = PointsLedger) -> Any:
    """The points a row takes by redemption, net of a hold given back (a release is positive)."""
    return case((ledger.kind.in_(REDEEMING), -ledger.points), else_=0)


def mark(session: Session, store_id: int | None, moment: datetime | None) -> None:
    """The day of `moment` is recounted at commit: for ledger rows written by a statement rather than as objects
    (loyalty/imported.py's set-based signup rewards, loyalty/imported_orders.py's points), which no flush shows."""
    _mark(session, store_id, moment)


def _mark(session: Session, store_id: int | None, moment: datetime | None) -> None:
    day = day_of(moment)
    if store_id is not None and day is not None:
        session.info.setdefault(_KEY, {}).setdefault(store_id, set()).add(day)


def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    for row in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(row, PointsLedger):
            continue
        _mark(session, row.store_id, row.created_at)
        # Not expected (the ledger is append-only), but a moved created_at or store must recount where it was too.
        state = inspect(row)
        for old in state.attrs.created_at.history.deleted:
            _mark(session, row.store_id, old)
        for old in state.attrs.store_id.history.deleted:
            _mark(session, old, row.created_at)


def settle(session: Session) -> None:
    """Recount the marked days (the before_commit hook; also safe to call earlier)."""
    if not session.info.get(_KEY):
        return
    session.flush()  # its rows mark their days first
    pending = session.info.pop(_KEY, {})
    # All the transaction's stores at once (an inbox group of stores, inbox/batch_group.py, marks several): each
    # store's days recounted are the union of all of theirs, which recounts some (store, day) for nothing, exactly.
    stores = sorted(pending)
    for chunk in chunks(sorted(set().union(*pending.values())), 200):
        session.execute(delete(PointsDay).where(in_keys(session, PointsDay.store_id, stores), PointsDay.day.in_(chunk)))
        _insert_days(session, stores, day_ranges(chunk))


def rebuild(session: Session, store_id: int) -> None:
    """The store's rollup from scratch."""
    session.flush()
    session.info.get(_KEY, {}).pop(store_id, None)
    session.execute(delete(PointsDay).where(PointsDay.store_id == store_id))
    first, last = session.execute(
        select(func.min(PointsLedger.created_at), func.max(PointsLedger.created_at)).where(
            PointsLedger.store_id == store_id
        )
    ).one()
    if first is not None:
        _insert_days(session, [store_id], [(midnight(day_of(first)), midnight(day_of(last)) + timedelta(days=1))])


def _insert_days(session: Session, store_ids: Sequence[int], ranges: list[tuple[datetime, datetime]]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        day = func.date(func.timezone("UTC", PointsLedger.created_at))
    else:
        day = func.date(PointsLedger.created_at)  # SQLite keeps naive UTC text (platform/types.UTCDateTime)
    rows = (
        select(PointsLedger.store_id, day, func.sum(issued()), func.sum(redeemed()))
        .where(
            in_keys(session, PointsLedger.store_id, store_ids),
            or_(*(and_(PointsLedger.created_at >= a, PointsLedger.created_at < b) for a, b in ranges)),
        )
        .group_by(PointsLedger.store_id, day)
    )
    session.execute(insert(PointsDay).from_select(["store_id", "day", "issued", "redeemed"], rows))


def _before_commit(session: Session) -> None:
    if session.info.get(_KEY):
        settle(session)


def install() -> None:
    """Listen on every Session (idempotent: create_app runs more than once in tests)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)
