"""How far behind each store is: deliveries not processed yet, the oldest one's age, when the last one was done.

Read by `flask inbox stats`, the admin API (`GET /admin/api/v1/inbox`, the caller's store only) and every
Prometheus scrape (`collect`, registered with platform/metrics.py). The scrape's query reads only the rows not
processed yet (pending, processing), found through `ix_webhook_inbox_status_id` (status, id): its cost follows the
backlog, not the inbox's history of done rows, which stay (the raw bytes are kept for replays).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from prometheus_client.core import Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.inbox.models import DONE, PENDING, PROCESSING, WebhookDelivery
from app.platform.metrics import gauge
from app.platform.types import utcnow

UNPROCESSED = (PENDING, PROCESSING)


def backlog(session: Session, store_id: int | None = None) -> dict[int, tuple[int, datetime]]:
    """store id -> (deliveries not processed yet, the oldest one's arrival), stores with a backlog only."""
    stmt = (
        select(WebhookDelivery.store_id, func.count(), func.min(WebhookDelivery.received_at))
        .where(WebhookDelivery.status.in_(UNPROCESSED))
        .group_by(WebhookDelivery.store_id)
    )
    if store_id is not None:
        stmt = stmt.where(WebhookDelivery.store_id == store_id)
    return {row[0]: (row[1], _aware(row[2])) for row in session.execute(stmt)}


def last_processed_at(session: Session, store_id: int) -> datetime | None:
    """When the store's newest processed delivery was processed (walks the primary key from the newest row)."""
    value = session.scalar(
        select(WebhookDelivery.processed_at)
        .where(WebhookDelivery.store_id == store_id, WebhookDelivery.status == DONE)
        .order_by(WebhookDelivery.id.desc())
        .limit(1)
    )
    return _aware(value) if value is not None else None


def store_lag(session: Session, store_ids: Iterable[int], now: datetime | None = None) -> list[dict[str, Any]]:
    """One entry per store: depth, oldest_unprocessed_age_seconds (None when nothing waits), last_processed_at."""
    now = now or utcnow()
    wanted = sorted(set(store_ids))
    waiting = backlog(session, wanted[0] if len(wanted) == 1 else None)
    entries = []
    for store_id in wanted:
        depth, oldest = waiting.get(store_id, (0, None))
        last = last_processed_at(session, store_id)
        entries.append(
            {
                "store_id": store_id,
                "depth": depth,
                "oldest_unprocessed_age_seconds": round((now - oldest).total_seconds(), 3) if oldest else None,
                "last_processed_at": last.isoformat() if last else None,
            }
        )
    return entries


def collect(session: Session) -> Iterable[Metric]:
    """The scrape's gauges: depth and oldest age per store with a backlog (an empty inbox shows no series)."""
    now = utcnow()
    rows = sorted(backlog(session).items())
    yield gauge("ppe_inbox_depth", ["store_id"], [([str(s)], float(depth)) for s, (depth, _) in rows])
    yield gauge(
        "ppe_inbox_oldest_unprocessed_age_seconds",
        ["store_id"],
        [([str(s)], max(0.0, (now - oldest).total_seconds())) for s, (_, oldest) in rows],
    )


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive UTC from aggregates (the column type's conversion does not apply to min())."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)
