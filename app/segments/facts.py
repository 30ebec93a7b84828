"""What a segment looks at: the customer record's aggregates (kept current by records/ as orders arrive) and the
loyalty tier. `Facts` is the same thing in Python, for a single customer and for the tests' from-scratch check."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, cast
from sqlalchemy.orm import Session

from app.loyalty.api import LoyaltyAccount, top_tier
from app.records.models import Customer
from app.records.models.customer import tag_list
from app.segments.models import SegmentRhythm
from app.stores.models import Store


@dataclass(frozen=True)
class Facts:
    orders: int
    currency: str | None
    total_spent: Decimal
    spent_by_currency: dict[str, Decimal] = field(default_factory=dict)
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    tier: str | None = None
    accepts_marketing: bool | None = None
    country: str | None = None
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Windows:
    """The lifecycle's yardsticks for one store at one moment."""

    now: datetime
    risk_after: datetime  # last order before this: at risk (1.5 x the store's interval ago)
    lapse_after: datetime  # last order before this: lapsed (3 x the interval ago)
    vip_currency: str | None
    vip_spend: Decimal | None
    top_tier: str | None


def windows(store: Store, rhythm: SegmentRhythm, now: datetime) -> Windows:
    interval = rhythm.interval_days
    return Windows(
        now=now,
        risk_after=now - timedelta(days=round(interval * 1.5)),
        lapse_after=now - timedelta(days=interval * 3),
        vip_currency=rhythm.vip_currency,
        vip_spend=rhythm.vip_spend,
        top_tier=top_tier(store),
    )


def spent_number(column: Any) -> Any:
    """Money as a number SQL can compare and sort: NUMERIC on PostgreSQL already; text on SQLite (platform/types.Money
    keeps it exact there), which CAST turns into a number."""
    return cast(column, Numeric(18, 4))


def facts_of(session: Session, customer: Customer) -> Facts:
    account = session.query(LoyaltyAccount).filter_by(store_id=customer.store_id, customer_id=customer.id).first()
    return facts_from_row(customer, account.tier if account else None)


def facts_from_row(customer: Any, tier: str | None) -> Facts:
    return Facts(
        orders=customer.orders_count or 0,
        currency=customer.currency,
        total_spent=customer.total_spent or Decimal("0"),
        spent_by_currency={k: Decimal(v) for k, v in (customer.spent_by_currency or {}).items()},
        first_order_at=customer.first_order_at,
        last_order_at=customer.last_order_at,
        tier=tier,
        accepts_marketing=customer.accepts_marketing,
        country=customer.country,
        tags=frozenset(tag_list(customer.tags)),
    )
