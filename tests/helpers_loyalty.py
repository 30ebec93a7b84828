"""Builders for loyalty tests: platform-neutral events applied through the real pipeline (dispatch)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.inbox.pipeline import dispatch
from app.loyalty.models import LoyaltyAccount, PointsLedger
from app.records.models import Customer
from connectors.events import (
    CustomerChanged,
    CustomerSnapshot,
    FulfillmentChanged,
    FulfillmentSnapshot,
    OrderChanged,
    OrderDeleted,
    OrderSnapshot,
    RefundCreated,
    RefundSnapshot,
    ShipmentEvent,
)

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def ann(platform_id: str | None = "7001", email: str = "ann@example.com") -> CustomerSnapshot:
    return CustomerSnapshot(platform_id=platform_id, email=email)


def order_event(
    pid: str,
    *,
    total: str = "100.00",
    subtotal: str | None = None,
    currency: str = "EUR",
    paid: bool = True,
    cancelled: bool = False,
    version: int = 0,
    customer: CustomerSnapshot | None = None,
    restored: bool = False,
) -> OrderChanged:
    snap = OrderSnapshot(
        platform_id=pid,
        name=f"#{pid}",
        currency=currency,
        total=Decimal(total),
        subtotal=Decimal(subtotal or total),
        created_at=T0,
        updated_at=T0 + timedelta(minutes=version),
        financial_status="paid" if paid else "pending",
        fulfillment_status=None,
        customer=customer if customer is not None else ann(),
        paid_at=T0 if paid else None,
        cancelled_at=T0 + timedelta(minutes=version) if cancelled else None,
    )
    return OrderChanged(order=snap, restored=restored)


def refund_event(pid: str, refund_id: str, amount: str) -> RefundCreated:
    return RefundCreated(RefundSnapshot(refund_id, pid, Decimal(amount), "EUR", T0 + timedelta(hours=1)))


def fulfil_event(pid: str, when: datetime = T0) -> FulfillmentChanged:
    return FulfillmentChanged(FulfillmentSnapshot(f"f{pid}", pid, "success", None, when, when))


def delivered_event(pid: str, when: datetime) -> ShipmentEvent:
    return ShipmentEvent(f"e{pid}", pid, f"f{pid}", "delivered", when)


def deleted_event(pid: str) -> OrderDeleted:
    return OrderDeleted(pid)


def customer_event(snap: CustomerSnapshot) -> CustomerChanged:
    return CustomerChanged(snap)


def apply(store, *events) -> None:
    for event in events:
        dispatch(db.session, store, event, T0)
    db.session.commit()


def customer(platform_id: str | None = "7001", email: str = "ann@example.com") -> Customer:
    where = Customer.platform_id == platform_id if platform_id else Customer.email_key == email
    return db.session.scalar(select(Customer).where(where))


def rows(store) -> list[PointsLedger]:
    return list(db.session.scalars(select(PointsLedger).where(PointsLedger.store_id == store.id)))


def account(store, customer_id: int) -> LoyaltyAccount | None:
    stmt = select(LoyaltyAccount).where(LoyaltyAccount.store_id == store.id, LoyaltyAccount.customer_id == customer_id)
    return db.session.scalar(stmt)
