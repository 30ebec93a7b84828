"""Points from orders: one convergent reconcile, run after record-keeping (the loyalty follower, loyalty/follower.py).

reconcile_order() compares the points an order should hold now with its ledger rows and appends the
difference, so any delivery order, duplicate or replay ends on the same sum:
- earn `order:<pid>:earn`, once, when the order is paid, stands (not cancelled or deleted) and has a
  customer: floor(basis * rate(currency) * tier multiplier), with the rule recorded on the row;
- refunds: the cumulative reversal target is min(earned, round(earned * refunded / total)) with the
  rule RECORDED on the earn row (today's settings never re-price an old order); each refund not yet
  reflected gets `refund:<refund pid>:reverse` = target - already reversed. Written only while the
  order stands: a cancelled order holds nothing, and its refunds are reflected if it is reinstated;
- cancellation or deletion: `order:<pid>:cancel` (then `:cancel:<n>`) takes back what the order holds;
  a restore or un-cancel appends `order:<pid>:reinstate:<n>` to bring the sum back to earned - refunds;
- the earn row's available_at is delivered_at + return window, else fulfilled_at + fallback, else NULL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.ledger import append, award_action, refresh_account
from app.loyalty.models import LoyaltyAccount, PointsLedger
from app.loyalty.settings import LoyaltySettings, get_settings
from app.platform.types import utcnow
from app.records.customers import find_by_platform_id
from app.records.history import is_past
from app.records.models import Order, OrderRefund
from app.stores.models import Store
from connectors.events import CustomerChanged

log = logging.getLogger(__name__)

_ROUNDING = {"floor": ROUND_FLOOR, "half_up": ROUND_HALF_UP}


def _points(amount: Decimal, rounding: str) -> int:
    return int(amount.to_integral_value(rounding=_ROUNDING[rounding]))


def _plain(amount: Decimal) -> str:
    """One spelling on every backend (PostgreSQL hands back NUMERIC(18,4) as 80.5000): 80.5."""
    return format(amount.normalize(), "f")


def earn_rule(settings: LoyaltySettings, order: Order, tier: str | None) -> dict[str, str]:
    return order_rule(settings, order.subtotal_price, order.total_price, order.currency, tier)


def order_rule(
    settings: LoyaltySettings, subtotal: Decimal, total: Decimal, currency: str, tier: str | None
) -> dict[str, str]:
    """earn_rule on an order's amounts (loyalty/imported_orders.py reads them as plain values, not as an Order)."""
    basis = subtotal if settings.basis == "subtotal" else total
    return amount_rule(settings, basis=basis, total=total, currency=currency, tier=tier)


def refund_rule(amount: Decimal, earn_key: str) -> dict[str, str]:
    """The rule recorded on a refund's reversal row."""
    return {"refund": _plain(amount), "earn": earn_key}


def amount_rule(
    settings: LoyaltySettings, *, basis: Decimal, total: Decimal, currency: str, tier: str | None
) -> dict[str, str]:
    """The earn rule for an amount: an order's (earn_rule), or one a storefront asks about before there is an
    order (the earn preview of the thank-you page and the WordPress plugin), so both price alike."""
    return {
        "rate": str(settings.rate(currency)),
        "currency": currency,
        "basis_kind": settings.basis,
        "basis": _plain(basis),
        "total": _plain(total),
        "multiplier": str(settings.tier_multiplier(tier)),
        "tier": tier or "",
        "rounding": settings.rounding,
    }


def preview_points(settings: LoyaltySettings, amount: Decimal, currency: str, tier: str | None) -> int:
    """The points an order of `amount` in `currency` earns under today's rules (0 when the programme is off)."""
    if not settings.enabled:
        return 0
    return points_for(amount_rule(settings, basis=amount, total=amount, currency=currency, tier=tier))


def points_for(rule: dict[str, str]) -> int:
    raw = Decimal(rule["basis"]) * Decimal(rule["rate"]) * Decimal(rule["multiplier"])
    return max(0, _points(raw, rule["rounding"]))


def reversal_target(earned: int, rule: dict[str, str], refunded: Decimal) -> int:
    """Points to take back for `refunded` of the order's money, by the rule recorded at earn time."""
    total = Decimal(rule["total"])
    if earned <= 0 or refunded <= 0:
        return 0
    if total <= 0:
        return earned
    return min(earned, max(0, _points(Decimal(earned) * refunded / total, rule["rounding"])))


def available_at(settings: LoyaltySettings, order: Order) -> datetime | None:
    return available_from(settings, order.delivered_at, order.fulfilled_at)


def available_from(
    settings: LoyaltySettings, delivered_at: datetime | None, fulfilled_at: datetime | None
) -> datetime | None:
    """available_at on an order's dates (loyalty/imported_orders.py)."""
    if delivered_at is not None:
        return delivered_at + timedelta(days=settings.return_window_days)
    if fulfilled_at is not None:
        return fulfilled_at + timedelta(days=settings.fulfilled_fallback_days)
    return None


def _tier(session: Session, store: Store, customer_id: int) -> str | None:
    stmt = select(LoyaltyAccount.tier).where(
        LoyaltyAccount.store_id == store.id, LoyaltyAccount.customer_id == customer_id
    )
    return session.scalar(stmt)


def reconcile_order(session: Session, store: Store, order: Order, now: datetime | None = None) -> list[PointsLedger]:
    """Bring the order's ledger rows to what the order is now; returns the rows appended."""
    now = now or utcnow()
    rows = list(
        session.scalars(
            select(PointsLedger)
            .where(PointsLedger.store_id == store.id, PointsLedger.order_platform_id == order.platform_id)
            .order_by(PointsLedger.id)
            .with_for_update()
        )
    )
    new, touched = reconcile_loaded(session, store, order, now, rows, None, lambda cid: _tier(session, store, cid))
    session.flush()
    for customer_id in touched:
        refresh_account(session, store, customer_id, now)
    return new


def reconcile_loaded(
    session: Session,
    store: Store,
    order: Order,
    now: datetime,
    rows: list[PointsLedger],
    refunds: list[OrderRefund] | None,
    tier_of: Callable[[int], str | None],
) -> tuple[list[PointsLedger], set[int]]:
    """reconcile_order on the order's ledger rows (and refunds, ordered by platform id) already loaded.

    Returns the rows appended and the customers whose account must be refreshed (the caller does it,
    once per customer for a whole batch). Every row of the order is in `rows` (they all carry its
    platform id), so a key absent from them is new: no lookup before the insert.
    """
    settings = get_settings(store)
    touched = {r.customer_id for r in rows}
    owner = order.customer_id
    if owner is not None:
        for row in rows:
            row.customer_id = owner  # rows follow the order's customer; amounts never change
    elif rows:
        owner = rows[0].customer_id  # the order lost its customer (deleted): its rows stay where they are
    if owner is None:
        return [], set()
    pid = order.platform_id
    stands = order.cancelled_at is None and order.deleted_at is None
    new: list[PointsLedger] = []
    known = {r.source_key for r in rows}

    def add(key: str, kind: str, points: int, rule: dict[str, Any], when: datetime | None = None) -> None:
        row = append(
            session,
            store,
            customer_id=owner,
            source_key=key,
            kind=kind,
            points=points,
            now=now,
            rule=rule,
            order_platform_id=pid,
            available_at=when,
            known=known,
        )
        if row is not None:
            rows.append(row)
            new.append(row)

    earn = next((r for r in rows if r.source_key == f"order:{pid}:earn"), None)
    if earn is None and stands and order.paid_at is not None and settings.enabled:
        rule = earn_rule(settings, order, tier_of(owner))
        if is_past(session, order):
            rule["imported"] = "1"  # earned by imported history (docs/history-import.md): shown so, kept out of tiers
        add(f"order:{pid}:earn", "earn", points_for(rule), rule)
        earn = rows[-1]
    if earn is not None:
        cycles = [r for r in rows if r.source_key.startswith((f"order:{pid}:cancel", f"order:{pid}:reinstate"))]
        if stands:
            _reflect_refunds(session, store, order, earn, rows, add, refunds)
            held_back = sum(r.points for r in cycles)
            if held_back:
                n = sum(1 for r in cycles if r.points > 0) + 1
                add(f"order:{pid}:reinstate:{n}", "earn", -held_back, {"reinstates": earn.source_key})
        else:
            holding = sum(r.points for r in rows)
            if holding > 0:
                n = sum(1 for r in cycles if r.points < 0) + 1
                key = f"order:{pid}:cancel" if n == 1 else f"order:{pid}:cancel:{n}"
                add(key, "reverse", -holding, {"reason": "deleted" if order.deleted_at else "cancelled"})
        earn.available_at = available_at(settings, order)
    if new:
        log.debug("loyalty.order_reconciled", extra={"store_id": store.id, "order_id": order.id, "rows": len(new)})
    return new, touched | {owner}


def _reflect_refunds(session: Session, store: Store, order: Order, earn: PointsLedger, rows, add, refunds) -> None:
    if refunds is None:
        refunds = session.scalars(
            select(OrderRefund)
            .where(OrderRefund.store_id == store.id, OrderRefund.order_platform_id == order.platform_id)
            .order_by(OrderRefund.platform_id)
        ).all()
    keys = {r.source_key: r for r in rows}
    reflected = sum((f.amount for f in refunds if f"refund:{f.platform_id}:reverse" in keys), Decimal("0"))
    reversed_so_far = -sum(r.points for r in rows if r.source_key.startswith("refund:"))
    for refund in refunds:
        key = f"refund:{refund.platform_id}:reverse"
        if key in keys:
            continue
        reflected += refund.amount
        target = reversal_target(earn.points, earn.rule, reflected)
        add(key, "reverse", -(target - reversed_so_far), refund_rule(refund.amount, earn.source_key))
        reversed_so_far = target


def on_customer_changed(session: Session, store: Store, event: CustomerChanged) -> None:
    """A platform account seen: the signup reward (once per account), and a refresh (a guest may have signed up)."""
    if event.customer.platform_id is None:
        return
    customer = find_by_platform_id(session, store.id, event.customer.platform_id)  # the batch's map, or a query
    if customer is None:
        return
    if award_action(session, store, customer, "signup", customer.platform_id or "") is None:
        refresh_account(session, store, customer.id, utcnow())
