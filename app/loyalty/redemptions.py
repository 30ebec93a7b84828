"""Redeeming points for a discount code: the row, the hold, the code's use on a later order, and its refund.

redeem() is the one entry point (admin API, storefront API, CLI). It writes the Redemption and its points hold
(`redeem:<id>`, loyalty.api.hold_points) in the caller's transaction; the caller commits, then enqueues
loyalty.redemption_tasks.issue_discount (a lost enqueue is picked up by the scheduler step once next_attempt_at passes).
The code is ours, generated before any platform call, so it is the idempotency key of the platform write.

on_order_event() runs in the pipeline after the followers (registered by loyalty's init_app): an order whose
discount codes include a redemption's code marks it `used`; if that order is later cancelled or deleted, the
points come back once (`redeem:<id>:refund`) and the redemption is `refunded`. Both steps are idempotent under replays.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from app.errors import Refused
from app.loyalty import preload
from app.loyalty.ledger import hold_points, release_hold
from app.loyalty.models import Redemption
from app.loyalty.settings import get_settings
from app.platform.locks import lock_store
from app.platform.sql import get_in_store
from app.platform.types import utcnow
from app.records.models import Customer
from app.records.order_derived import flush_unless_batch
from app.records.orders import find_order
from app.stores.models import Store
from app.stores.uninstall import register_uninstall_hook
from connectors.events import OrderChanged, OrderDeleted
from connectors.writeback import DiscountSpec

log = logging.getLogger(__name__)

#: No 0/O, 1/I/L, U: readable aloud and typed from an e-mail without ambiguity. 10 symbols of 31 = 49 bits.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_PREFIX = "PTS"
#: The job's own claim on a pending row; the scheduler re-enqueues a row only after this has passed.
ENQUEUE_LEASE = timedelta(seconds=60)


class RedemptionError(Refused):
    """A redemption refused before anything was written; `key` (its `code`) is stable for APIs, `status` the
    HTTP answer."""

    def __init__(self, key: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.key, self.message, self.status = key, message, status
        self.code = key


def new_code(session: Session, store: Store) -> str:
    while True:
        body = "".join(secrets.choice(ALPHABET) for _ in range(10))
        code = f"{CODE_PREFIX}-{body[:5]}-{body[5:]}"
        taken = select(Redemption.id).where(Redemption.store_id == store.id, Redemption.code == code)
        if session.scalar(taken) is None:
            return code


def find(session: Session, store: Store, redemption_id: int) -> Redemption | None:
    return get_in_store(session, Redemption, redemption_id, store.id)


def redeem(
    session: Session, store: Store, customer: Customer, reward_id: str, idempotency_key: object, now: datetime
) -> Redemption:
    """Hold the reward's points and create the pending redemption; the same key returns the same redemption.

    Raises RedemptionError (unknown or disabled reward, guest, bad key) or loyalty InsufficientPoints.
    """
    if customer.store_id != store.id:
        raise RedemptionError("customer_not_found", "no such customer", 404)
    # Printable text only: a NUL cannot reach PostgreSQL's text columns (the driver refuses it), and a key is an
    # opaque token the widget makes (a UUID), never a line of text.
    if (
        not isinstance(idempotency_key, str)
        or not 1 <= len(idempotency_key) <= 128
        or not idempotency_key.isprintable()
    ):
        raise RedemptionError("idempotency_key_invalid", "idempotency_key must be 1 to 128 printable characters")

    lock_store(session, store.id)  # one spender at a time per store: the spendable check must hold until commit
    existing = session.scalar(
        select(Redemption).where(Redemption.store_id == store.id, Redemption.idempotency_key == idempotency_key)
    )
    if existing is not None:
        if existing.customer_id != customer.id or existing.reward_id != reward_id:
            raise RedemptionError("idempotency_key_reused", "this idempotency_key was used for another redemption", 409)
        return existing
    settings = get_settings(store)
    reward = settings.reward(reward_id) if isinstance(reward_id, str) else None
    if reward is None or not settings.enabled:
        raise RedemptionError("reward_not_found", "no such reward, or the programme is off", 404)
    if customer.is_guest:
        raise RedemptionError("account_required", "guests cannot redeem: the customer needs an account", 403)
    snapshot = {
        "type": reward.type,
        "value": None if reward.value is None else format(reward.value, "f"),
        "currency": reward.currency,
        "points": reward.points,
    }
    row = Redemption(
        store_id=store.id,
        customer_id=customer.id,
        reward_id=reward.id,
        reward=snapshot,
        points=reward.points,
        code=new_code(session, store),
        status="pending",
        idempotency_key=idempotency_key,
        attempts=0,
        next_attempt_at=now + ENQUEUE_LEASE,
        expires_at=now + timedelta(days=settings.code_expiry_days) if settings.code_expiry_days else None,
        created_at=now,
    )
    session.add(row)
    session.flush()
    hold_points(session, store, customer, reward.points, f"redeem:{row.id}", {"reward": reward.id}, now)
    log.info("loyalty.redeemed", extra={"store_id": store.id, "customer_id": customer.id, "redemption_id": row.id})
    return row


def discount_spec(store: Store, redemption: Redemption, customer: Customer) -> DiscountSpec:
    """Single use, for that customer only: the Shopify customer gid, or WooCommerce's email restriction."""
    reward = redemption.reward
    value = reward.get("value")
    shopify = store.platform == "shopify"
    return DiscountSpec(
        code=redemption.code,
        title=f"Loyalty reward {redemption.reward_id} ({redemption.code})",
        kind=reward["type"],
        value=_decimal(value),
        currency=reward.get("currency") or store.currency,
        customer_platform_id=customer.platform_id if shopify else None,
        customer_email=None if shopify else customer.email,
        usage_limit=1,
        once_per_customer=True,
        starts_at=redemption.created_at,
        ends_at=redemption.expires_at,
    )


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal("0")


def mark_issued(redemption: Redemption, platform_id: str, now: datetime) -> None:
    redemption.status, redemption.platform_discount_id = "issued", platform_id
    redemption.issued_at, redemption.next_attempt_at, redemption.last_error = now, None, None


def fail(session: Session, store: Store, redemption: Redemption, error: str, now: datetime) -> None:
    """Permanent refusal or too many attempts: failed, and the held points go back (once)."""
    if redemption.status != "pending":
        return
    redemption.status, redemption.last_error, redemption.next_attempt_at = "failed", error[:2000], None
    release_hold(session, store, f"redeem:{redemption.id}", "issue_failed", now)
    session.flush()
    log.warning(
        "loyalty.redemption_failed",
        extra={"store_id": store.id, "redemption_id": redemption.id, "reason": error.split(":", 1)[0]},
    )


def on_order_event(session: Session, store: Store, event: OrderChanged | OrderDeleted) -> None:
    """PIPELINE handler after loyalty's reconcile: a redemption's code seen on an order, or that order cancelled."""
    pid = event.order.platform_id if isinstance(event, OrderChanged) else event.order_id
    order = find_order(session, store, pid)
    if order is None:
        return
    # WooCommerce lowercases coupon codes (wc_format_coupon_code); ours are upper case.
    codes = {str(c).upper() for c in order.discount_codes or []}
    loaded = preload.redemptions(session, store.id)  # a batch loaded every one its orders name
    if loaded is not None:
        candidates = [r for r in loaded if r.code in codes or r.used_order_platform_id == pid]
    else:
        stmt = select(Redemption).where(Redemption.store_id == store.id)
        candidates = list(session.scalars(stmt.where(Redemption.code.in_(sorted(codes))))) if codes else []
        candidates += list(session.scalars(stmt.where(Redemption.used_order_platform_id == pid)))
    stands = order.cancelled_at is None and order.deleted_at is None
    for redemption in {r.id: r for r in candidates}.values():
        if redemption.status in ("issued", "pending") and redemption.code in codes:
            redemption.status, redemption.used_order_platform_id = "used", pid
            log.info("loyalty.redemption_used", extra={"store_id": store.id, "redemption_id": redemption.id})
        if redemption.status == "used" and redemption.used_order_platform_id == pid and not stands:
            release_hold(session, store, f"redeem:{redemption.id}", "order_cancelled", suffix="refund")
            redemption.status = "refunded"
            log.info("loyalty.redemption_refunded", extra={"store_id": store.id, "redemption_id": redemption.id})
    flush_unless_batch(session)


@register_uninstall_hook
def stop_pending(session: Session, store: Store) -> None:
    """The store is gone: no code can be created; pending redemptions fail and their points come back."""
    pending = session.scalars(
        select(Redemption).where(Redemption.store_id == store.id, Redemption.status == "pending")
    ).all()
    for redemption in pending:
        fail(session, store, redemption, "store uninstalled", utcnow())


def due_pending(session: Session, now: datetime, limit: int = 200) -> list[tuple[int, int]]:
    """Claim pending redemptions whose next attempt is due (moving it forward by the lease); their (id, store id),
    so that each job is enqueued with its store."""
    due = session.execute(
        select(Redemption.id, Redemption.store_id)
        .where(Redemption.status == "pending", Redemption.next_attempt_at <= now)
        .order_by(Redemption.next_attempt_at)
        .limit(limit)
    ).all()
    claimed = []
    for redemption_id, store_id in due:
        # DML returns a CursorResult (rowcount); execute() is typed Result
        moved = cast(
            "CursorResult[Any]",
            session.execute(
                update(Redemption)
                .where(
                    Redemption.store_id == store_id,
                    Redemption.id == redemption_id,
                    Redemption.status == "pending",
                    Redemption.next_attempt_at <= now,
                )
                .values(next_attempt_at=now + ENQUEUE_LEASE)
            ),
        ).rowcount
        if moved:
            claimed.append((int(redemption_id), int(store_id)))
    return claimed


def as_dict(redemption: Redemption) -> dict[str, Any]:
    """The API shape; the code only once it exists at the store (issued or later)."""
    shown = redemption.status in ("issued", "used", "refunded")
    return {
        "id": redemption.id,
        "customer_id": redemption.customer_id,
        "reward_id": redemption.reward_id,
        "reward": redemption.reward,
        "points": redemption.points,
        "status": redemption.status,
        "code": redemption.code if shown else None,
        "attempts": redemption.attempts,
        "last_error": redemption.last_error,
        "expires_at": _iso(redemption.expires_at),
        "issued_at": _iso(redemption.issued_at),
        "used_order_platform_id": redemption.used_order_platform_id,
        "created_at": _iso(redemption.created_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
