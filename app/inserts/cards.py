"""What one printed card says: gathered from the order, its customer, the store's branding and the programmes.

The card speaks the customer's language (the order's locale, else the customer's, else the store's: messaging's
rule) and carries two links: the order's review page (a signed link valid for a year and more, reviews/api) as a QR
code, and the customer's referral code and share link when the store's referral programme is on. A guest order has
no customer record to hold a referral code, so its card has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.messaging.api import branding, resolve_locale
from app.platform.sql import get_in_store
from app.platform.types import strict_day
from app.records.models import Customer, Order
from app.referrals.api import share_link
from app.reviews.api import order_review_url
from app.stores.models import Store

MAX_CARDS = 2000  # one day's batch; a store shipping more prints in several runs (`--limit`/`offset`)


@dataclass(frozen=True)
class Card:
    order_name: str
    first_name: str | None
    store_name: str
    primary_color: str
    on_primary: str
    locale: str
    review_url: str
    referral_code: str | None
    referral_url: str | None


def card_for(session: Session, store: Store, order: Order) -> Card:
    customer = get_in_store(session, Customer, order.customer_id, store.id) if order.customer_id else None
    locale = resolve_locale(order.locale, customer.locale if customer else None, (store.settings or {}).get("locale"))
    look = branding(store.settings)
    referral = share_link(session, store, customer) if customer is not None else None
    return Card(
        order_name=order.name or f"#{order.platform_id}",
        first_name=(customer.first_name or None) if customer else None,
        store_name=store.name or store.domain,
        primary_color=str(look["primary_color"]),
        on_primary=str(look["on_primary"]),
        locale=locale,
        review_url=order_review_url(store.id, order.platform_id, locale),
        referral_code=referral[0] if referral else None,
        referral_url=referral[1] if referral else None,
    )


def parse_day(value: str | None, store: Store) -> date:
    """YYYY-MM-DD exactly (Python also takes 20270220 and week dates: not what the document promises), default today
    in the store's time zone; ValueError otherwise."""
    if value is None or value == "":
        return datetime.now(store_zone(store)).date()
    return strict_day(value)


def store_zone(store: Store) -> ZoneInfo:
    try:
        return ZoneInfo(store.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def orders_of_day(session: Session, store: Store, day: date, *, limit: int = MAX_CARDS) -> list[Order]:
    """The day's orders in the store's time zone (what the packing table ships), oldest first; cancelled and
    deleted ones left out."""
    zone = store_zone(store)
    start = datetime.combine(day, time.min, zone)
    end = (start + timedelta(days=1)).astimezone(UTC)  # the stored times are UTC
    start = start.astimezone(UTC)
    stmt = select(Order).where(
        Order.store_id == store.id,
        Order.placed_at >= start,
        Order.placed_at < end,
        Order.cancelled_at.is_(None),
        Order.deleted_at.is_(None),
    )
    return list(session.scalars(stmt.order_by(Order.placed_at, Order.id).limit(limit)))
