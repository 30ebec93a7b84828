"""Which due deliveries a claim takes: a fair share of every store's first, then the oldest.

A FIFO claim (`ORDER BY id`) puts a flash sale's 50,000 deliveries ahead of every other store's. Here, with
`n` stores holding due deliveries and a claim of `limit`, each store's share is `k = ceil(limit / n)`:
1. the fair part: each store's oldest `k` due deliveries, taken round by round (every store's 1st, then every
   store's 2nd...; within a round, the store with the oldest due delivery first);
2. the fill: oldest first, whatever their store, what the fair part leaves of `limit` but at most FILL rows
   (so a burst store beside others still gets more than its share, and a store alone in the inbox, whose
   share is the whole claim, whole batches: no store is starved, the burst store included).
Rounds 1..k-1 of the fair part hold at most n * (k - 1) < limit rows, so they always fit: a delivery with
fewer than k - 1 due deliveries of its own store ahead of it is in the next claim, however large another
store's backlog. Its wait is then the claims in flight plus its own, and a claim's length is what FILL
bounds: a 2,000-row claim of which 1,900 a flash sale's would make every other store wait for those 1,900
(the bound, measured in bench/README.md, "Fairness: the inbox's claim").

PostgreSQL (index-supported, for several workers side by side): each store's head and its share come from
the partial index ix_webhook_inbox_pending_store (store_id, id) WHERE status = 'pending', one LATERAL probe
per row of `stores`, and each share's probe locks its rows FOR UPDATE SKIP LOCKED, so two claims at once
take different rows (https://www.postgresql.org/docs/current/sql-select.html#SQL-FOR-UPDATE-SHARE). The
work is one probe per store + limit + n rows, not the whole backlog. SQLite (one writer at a time, no row
locks): the same choice with window functions over the due rows. DESIGN.md, "The flow of one webhook", step 4.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select, true, union_all
from sqlalchemy.sql.expression import FromClause

from app.inbox.models import PENDING, WebhookDelivery
from app.stores.models import Store

#: At most this many rows beyond the stores' shares per claim: one store part of inbox/batch.STORE_PART, the
#: unit a batch applies anyway, so a burst's drain costs one more claim per 500 rows, not more transactions.
FILL = 500
_INBOX = WebhookDelivery.__table__
_STORES = Store.__table__


def fair_ids(dialect: str, limit: int, now: datetime) -> Select[tuple[int]]:
    """The ids one claim takes (at most `limit`), for platform/outbox.claim_ids."""
    return _postgresql(limit, now) if dialect == "postgresql" else _window(limit, now)


def _due(table: FromClause, now: datetime) -> ColumnElement[bool]:
    """Pending and not waiting for a retry's backoff (inbox/processing.mark_failure)."""
    return and_(table.c.status == PENDING, or_(table.c.next_attempt_at.is_(None), table.c.next_attempt_at <= now))


def _share(limit: int, stores: ColumnElement[int]) -> ColumnElement[int]:
    """ceil(limit / stores) (0 stores: nothing is due anyway, the division by 1 is only to avoid one by 0)."""
    return (literal(limit) + stores - 1) // case((stores > 1, stores), else_=1)


def _room(limit: int, fair: ColumnElement[int]) -> ColumnElement[int]:
    """The fill's size: what the fair part leaves of `limit`, at most FILL."""
    left = literal(limit) - fair
    return case((left > FILL, FILL), (left > 0, left), else_=0)


def _postgresql(limit: int, now: datetime) -> Select[tuple[int]]:
    first = _INBOX.alias("first_due")
    head = (
        select(first.c.id)
        .where(first.c.store_id == _STORES.c.id, _due(first, now))
        .order_by(first.c.id)
        .limit(1)
        .lateral("head")
    )
    heads = (
        select(_STORES.c.id.label("store_id"), head.c.id.label("head")).select_from(_STORES.join(head, true()))
    ).cte("heads")
    share = _share(limit, select(func.count()).select_from(heads).scalar_subquery())
    mine = _INBOX.alias("mine")
    taken = (
        select(mine.c.id)
        .where(mine.c.store_id == heads.c.store_id, _due(mine, now))
        .order_by(mine.c.id)
        .limit(share)
        .with_for_update(skip_locked=True)
        .lateral("taken")
    )
    fair = (
        select(
            taken.c.id,
            func.row_number().over(partition_by=heads.c.store_id, order_by=taken.c.id).label("round"),
            heads.c.head,
        )
        .select_from(heads.join(taken, true()))
        .cte("fair")
    )
    fill = (
        select(_INBOX.c.id)
        .where(_due(_INBOX, now), _INBOX.c.id.not_in(select(fair.c.id)))
        .order_by(_INBOX.c.id)
        .limit(_room(limit, select(func.count()).select_from(fair).scalar_subquery()))
        .with_for_update(skip_locked=True)
        .cte("fill")
    )
    picked = union_all(
        select(fair.c.id, literal(0).label("part"), fair.c.round, fair.c.head),
        select(fill.c.id, literal(1), literal(0), fill.c.id),
    ).subquery("picked")
    return select(picked.c.id).order_by(picked.c.part, picked.c.round, picked.c.head).limit(limit)


def _window(limit: int, now: datetime) -> Select[tuple[int]]:
    due = (
        select(
            _INBOX.c.id,
            func.row_number().over(partition_by=_INBOX.c.store_id, order_by=_INBOX.c.id).label("round"),
            func.min(_INBOX.c.id).over(partition_by=_INBOX.c.store_id).label("head"),
        )
        .where(_due(_INBOX, now))
        .subquery("due")
    )
    stores = select(func.count(func.distinct(_INBOX.c.store_id))).where(_due(_INBOX, now)).scalar_subquery()
    fair = due.c.round <= _share(limit, stores)
    shares = select(func.count()).select_from(due).where(fair).scalar_subquery()
    return (
        select(due.c.id)
        .order_by(
            case((fair, 0), else_=1), case((fair, due.c.round), else_=0), case((fair, due.c.head), else_=due.c.id)
        )
        .limit(case((shares > limit, limit), else_=shares + _room(limit, shares)))
    )
