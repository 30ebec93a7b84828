"""A store's purchase rhythm, the yardstick of its lifecycle segments (RFM's recency, measured against the store's
own pace rather than a fixed 90 days: a coffee shop's customers reorder monthly, a furniture store's yearly).

- interval: the median days between orders of the store's 5,000 most recent repeat customers, each customer's
  (last - first) / (orders - 1); fewer than 20 repeat customers: 60 days, the default; kept within 14..365.
- VIP spend: what the top 5% of the store's customers spent, in the store's currency.
Both are set-based reads, bounded (the sample is a LIMIT on an index), recomputed once a day (a scheduler step) or
on first use; membership is computed at query time from the customer record, which the pipeline keeps current.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.platform.types import utcnow
from app.records.models import Customer
from app.segments.facts import spent_number
from app.segments.models import SegmentRhythm
from app.stores.models import Store

SAMPLE = 5000
MIN_REPEAT = 20
DEFAULT_INTERVAL, MIN_INTERVAL, MAX_INTERVAL = 60, 14, 365
VIP_SHARE = 0.05
STALE = timedelta(days=1)


def _interval(session: Session, store: Store) -> tuple[int, int]:
    stmt = (
        select(Customer.first_order_at, Customer.last_order_at, Customer.orders_count)
        .where(Customer.store_id == store.id, Customer.orders_count >= 2, Customer.last_order_at.is_not(None))
        .order_by(Customer.last_order_at.desc())
        .limit(SAMPLE)
    )
    gaps = [
        (last - first).total_seconds() / 86400 / (count - 1)
        for first, last, count in session.execute(stmt)
        if first is not None and last is not None
    ]
    if len(gaps) < MIN_REPEAT:
        return DEFAULT_INTERVAL, len(gaps)
    return max(MIN_INTERVAL, min(MAX_INTERVAL, round(median(gaps)))), len(gaps)


def _vip_spend(session: Session, store: Store) -> tuple[str | None, object]:
    currency = store.currency
    if not currency:
        return None, None
    scope = (Customer.store_id == store.id, Customer.currency == currency, Customer.orders_count >= 1)
    total = session.scalar(select(func.count()).select_from(Customer).where(*scope)) or 0
    if total == 0:
        return currency, None
    rank = int(total * VIP_SHARE)  # 0-based position of the 95th percentile from the top
    stmt = (
        select(Customer.total_spent)
        .where(*scope)
        .order_by(spent_number(Customer.total_spent).desc())
        .offset(rank)
        .limit(1)
    )
    return currency, session.scalar(stmt)


def compute(session: Session, store: Store, now: datetime | None = None) -> SegmentRhythm:
    interval, repeat = _interval(session, store)
    currency, spend = _vip_spend(session, store)
    row = session.get(SegmentRhythm, store.id)
    if row is None:
        row = SegmentRhythm(store_id=store.id)
        session.add(row)
    row.interval_days, row.repeat_customers = interval, repeat
    row.vip_currency, row.vip_spend = currency, spend  # type: ignore[assignment]
    row.computed_at = now or utcnow()
    session.flush()
    return row


def current(session: Session, store: Store, now: datetime) -> SegmentRhythm:
    """The stored rhythm, computed now when missing (a new store) and refreshed when a day old."""
    row = session.get(SegmentRhythm, store.id)
    if row is None or row.computed_at < now - STALE:
        row = compute(session, store, now)
    return row
