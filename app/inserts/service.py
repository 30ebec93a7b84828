"""The two documents, as the CLI and the admin API ask for them: one order's card, or a day's sheet."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.inserts.cards import MAX_CARDS, card_for, orders_of_day
from app.inserts.pdf import card_pdf, sheet_pdf
from app.records.models import Order
from app.stores.models import Store


def order_card(session: Session, store: Store, order_platform_id: str) -> bytes | None:
    """None when the store has no such order (another store's order id included)."""
    stmt = select(Order).where(Order.store_id == store.id, Order.platform_id == order_platform_id)
    order = session.scalar(stmt)
    if order is None:
        return None
    return card_pdf(card_for(session, store, order))


def day_sheet(session: Session, store: Store, day: date, *, limit: int = MAX_CARDS) -> tuple[bytes, int]:
    orders = orders_of_day(session, store, day, limit=limit)
    cards = [card_for(session, store, order) for order in orders]
    return sheet_pdf(cards, f"{store.domain} {day.isoformat()}"), len(cards)
