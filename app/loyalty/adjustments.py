"""What the merchant's tools (admin API, CLI) see of one customer's points, and manual adjustments.

- customer_summary(session, store, customer, now) -> dict: balance parts (computed from the rows),
  the tier with its window and the progress to the next tier, the tier history, the last 50 ledger
  rows with the rule recorded on each.
- adjust_points(session, store, customer, points, reason, idempotency_key, now) -> (PointsLedger, created):
  a manual row (kind `adjust`, key `adjust:<idempotency_key>`); the same key returns the first row, and
  a different amount under a used key is refused (AdjustmentConflict) rather than silently ignored. It holds
  the store's lock (platform.locks.lock_store) to its commit, so a removal's spendable check stays true until
  its row is in (two removals at once cannot both pass it).
- check_adjustment(points, reason) -> (points, reason): the rule every caller applies to what the merchant typed
  (admin API, dashboard); AdjustmentInvalid names the field.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, Refused
from app.loyalty.ledger import append, balance, customer_rows, find_row, refresh_account
from app.loyalty.models import LoyaltyAccount, LoyaltyTierChange, PointsLedger
from app.loyalty.settings import get_settings
from app.loyalty.tiers import metrics, progress
from app.platform.locks import lock_store
from app.records.models import Customer
from app.stores.models import Store

log = logging.getLogger(__name__)

HISTORY_ROWS = 50
MAX_ADJUST = 1_000_000
MAX_REASON = 200


class AdjustmentConflict(Conflict, ValueError):
    """The idempotency key was used for a different adjustment."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="idempotency_key")


class AdjustmentRefused(Refused, ValueError):
    """A negative adjustment larger than the spendable balance."""

    code = "insufficient_points"

    def __init__(self, message: str) -> None:
        super().__init__(f"more than the spendable balance ({message})", field="points")


class AdjustmentInvalid(Refused, ValueError):
    code = "invalid"

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message, field=field)
        self.message = message
        self.field = field


def check_adjustment(points: Any, reason: Any) -> tuple[int, str]:
    """A non-zero whole number of points within MAX_ADJUST either way, and a reason (1 to MAX_REASON characters,
    not only spaces), trimmed."""
    if isinstance(points, bool) or not isinstance(points, int) or points == 0 or abs(points) > MAX_ADJUST:
        raise AdjustmentInvalid(f"a non-zero integer between -{MAX_ADJUST} and {MAX_ADJUST}", "points")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise AdjustmentInvalid(f"a non-empty string of at most {MAX_REASON} characters", "reason")
    return points, reason.strip()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def row_json(row: PointsLedger) -> dict[str, Any]:
    return {
        "id": row.id,
        "source_key": row.source_key,
        "kind": row.kind,
        "points": row.points,
        "order_id": row.order_platform_id,
        "rule": row.rule,
        "available_at": _iso(row.available_at),
        "created_at": _iso(row.created_at),
    }


def customer_summary(session: Session, store: Store, customer: Customer, now: datetime) -> dict[str, Any]:
    settings = get_settings(store)
    parts = balance(session, store, customer, now)
    account = session.scalar(
        select(LoyaltyAccount).where(LoyaltyAccount.store_id == store.id, LoyaltyAccount.customer_id == customer.id)
    )
    tier = account.tier if account else None
    figures = metrics(session, store, customer.id, customer_rows(session, store, customer.id), settings, now)
    changes = session.scalars(
        select(LoyaltyTierChange)
        .where(LoyaltyTierChange.store_id == store.id, LoyaltyTierChange.customer_id == customer.id)
        .order_by(LoyaltyTierChange.id.desc())
        .limit(HISTORY_ROWS)
    )
    recent = session.scalars(
        select(PointsLedger)
        .where(PointsLedger.store_id == store.id, PointsLedger.customer_id == customer.id)
        .order_by(PointsLedger.id.desc())
        .limit(HISTORY_ROWS)
    )
    return {
        "customer": {"id": customer.id, "platform_id": customer.platform_id, "guest": customer.is_guest},
        "balance": {
            "total": parts.total,
            "pending": parts.pending,
            "spendable": parts.spendable,
            "held": parts.held,
            "lifetime_earned": parts.lifetime_earned,
            "expiring_30d": parts.expiring_30d,
            "expires_at": _iso(parts.expires_at),
            "last_activity_at": _iso(parts.last_activity_at),
        },
        "tier": {
            "name": tier,
            "multiplier": str(settings.tier_multiplier(tier)),
            "since": _iso(account.tier_since) if account else None,
            "expires_at": _iso(account.tier_expires_at) if account else None,
            "figures": {f"{b}:{w}": format(v.normalize(), "f") for (b, w), v in sorted(figures.items())},
            "next": progress(settings, tier, figures),
            "history": [
                {
                    "from": c.from_tier,
                    "to": c.to_tier,
                    "reason": c.reason,
                    "metrics": c.metrics,
                    "at": _iso(c.created_at),
                }
                for c in changes
            ],
        },
        "ledger": [row_json(r) for r in recent],
    }


def adjust_points(
    session: Session,
    store: Store,
    customer: Customer,
    points: int,
    reason: str,
    idempotency_key: str,
    now: datetime,
) -> tuple[PointsLedger, bool]:
    key = f"adjust:{idempotency_key}"
    lock_store(session, store.id)  # the spendable check below must hold until this transaction commits
    existing = find_row(session, store, key)
    if existing is not None:
        if existing.customer_id != customer.id or existing.points != points:
            raise AdjustmentConflict("this idempotency_key was used for another adjustment")
        return existing, False
    if points < 0:
        spendable = balance(session, store, customer, now).spendable
        if spendable + points < 0:
            raise AdjustmentRefused(f"spendable is {spendable}")
    row = append(
        session,
        store,
        customer_id=customer.id,
        source_key=key,
        kind="adjust",
        points=points,
        now=now,
        rule={"reason": reason, "by": "merchant"},
        available_at=now,
    )
    assert row is not None
    refresh_account(session, store, customer.id, now)
    log.info("loyalty.adjusted", extra={"store_id": store.id, "customer_id": customer.id, "row_id": row.id})
    return row, True
