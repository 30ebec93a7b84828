"""Builders for loyalty tests: platform-neutral events applied through the real pipeline (dispatch)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.inbox.pipeline import dispatch
from app.loyalty.models import LoyaltyAccount, PointsLedger
from app.platform.types import utcnow
from app.records.models import Customer
from app.security import secret_box
from app.storefront import local_state
from app.storefront.auth import mint_customer_token
from app.stores.storefront_keys import ensure_keys
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
from tests.helpers import add_store

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


def points_days_rows(store_id: int) -> dict:
    """The Overview's daily points rollup of a store (loyalty/points_days.py): {day: (issued, redeemed)}."""
    from app.loyalty.models import PointsDay

    rows = db.session.execute(
        select(PointsDay.day, PointsDay.issued, PointsDay.redeemed).where(PointsDay.store_id == store_id)
    ).all()
    return {day: (int(i), int(r)) for day, i, r in rows}


def ledger_recount(store_id: int) -> dict:
    """The same, recounted here in Python from the store's ledger rows (independent of the rollup's SQL)."""
    from app.loyalty.points_days import day_of

    days: dict = {}
    for row in db.session.scalars(select(PointsLedger).where(PointsLedger.store_id == store_id)):
        entry = days.setdefault(day_of(row.created_at), [0, 0])
        if row.kind in ("earn", "action", "tier_reward") or (row.kind == "adjust" and row.points > 0):
            entry[0] += row.points
        if row.kind in ("redeem", "redeem_release"):
            entry[1] -= row.points
    return {day: (i, r) for day, (i, r) in days.items()}


def account(store, customer_id: int) -> LoyaltyAccount | None:
    stmt = select(LoyaltyAccount).where(LoyaltyAccount.store_id == store.id, LoyaltyAccount.customer_id == customer_id)
    return db.session.scalar(stmt)


# The balance cache tests':
# Shared by the balance cache tests: a WooCommerce shopper with a token, reads, the copies (the `bumps` spy
# is a fixture in conftest.py).

SITE = "cache.example.com"
BALANCE = "/api/v1/me/balance"


def new_shopper(platform_id: str = "7001"):
    store = add_store("woocommerce", f"https://{SITE}/")
    keys = ensure_keys(db.session, secret_box(), store)
    db.session.commit()
    token = mint_customer_token(SITE, platform_id, keys.secret, expires_at=int(utcnow().timestamp()) + 600)
    return store, {"Authorization": f"Bearer {token}"}


def read_balance(client, headers):  # noqa: ANN001, ANN202
    """A request in its own transaction, as in production (here the test's session is shared with the app)."""
    db.session.commit()
    return client.get(BALANCE, headers=headers)


def copies() -> list[object]:
    """The answers this process keeps (storefront/local_state.py)."""
    return list(local_state.state(current_app).copies)


def fresh_balance(client, headers) -> dict:
    """The answer computed from the database: the copies are dropped first."""
    local_state.forget(current_app)
    answer = read_balance(client, headers)
    assert answer.status_code == 200, answer.json
    return answer.json
