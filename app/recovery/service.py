"""Opening a case, and what happens to it when its order changes. No HTTP here: the coupon's write-back is the
job's (tasks.py), from the case row, which is its outbox.

open_case(session, store, *, order_id, customer_id, reason, source, now=None) -> RecoveryCase | None
    The order's case, opened once: the (store, order) unique key decides between two workers (a SAVEPOINT
    absorbs the loser's insert, which then returns the winner's row), never a check-then-act. None when the
    store's recovery is off, or the order is unknown, cancelled, deleted or has no customer to apologise to.
    Opening tells the merchant (support.record: the notification list, the admin's list) in the caller's
    transaction; the coupon and the apology follow from the scheduler's claim (tasks.py).
order_changed(session, store, order, cases): the follower's rule (follower.py) for the cases of one order:
    refunded, cancelled or deleted before its code was used -> the coupon is taken back (`reversing`, or
    `reversed` at once when it was never created), the apology cancelled if it is still queued.
code_used(session, store, order, cases): an order that carries a case's code marks it `used` (never reversed).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.messaging import cancel_messages
from app.platform.types import utcnow
from app.records.models import Order
from app.records.orders import find_order
from app.recovery.models import FAILED, PENDING, REASONS, REVERSED, REVERSING, USED, RecoveryCase
from app.recovery.settings import RecoverySettings, get_settings
from app.stores.models import Store
from app.support import RECOVERY, ShopperMessage, record

log = logging.getLogger(__name__)
# Unambiguous symbols (no 0/O, 1/I/L, U): a code read aloud or typed from a phone screen.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "SORRY-"


def new_code() -> str:
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(10))


def find_case(session: Session, store: Store, order_id: str) -> RecoveryCase | None:
    stmt = select(RecoveryCase).where(RecoveryCase.store_id == store.id, RecoveryCase.order_platform_id == order_id)
    return session.scalar(stmt)


def _stands(order: Order) -> bool:
    return order.cancelled_at is None and order.deleted_at is None and order.refunded_amount <= 0


def _reason_on(settings: RecoverySettings, reason: str) -> bool:
    """The merchant's choice of which programmes may open cases (late parcels are the journey's own check)."""
    if reason == "survey_detractor":
        return settings.detractors
    if reason == "low_rating":
        return settings.low_ratings
    return True


def open_case(
    session: Session,
    store: Store,
    *,
    order_id: str,
    customer_id: int | None,
    reason: str,
    source: str,
    now: datetime | None = None,
) -> RecoveryCase | None:
    if reason not in REASONS:
        raise ValueError(f"reason must be one of {REASONS}")
    settings = get_settings(store)
    if not settings.enabled or not _reason_on(settings, reason):
        return None
    existing = find_case(session, store, order_id)
    if existing is not None:
        return existing
    order = find_order(session, store, order_id)
    customer_id = customer_id or (order.customer_id if order else None)
    if order is None or customer_id is None or not _stands(order):
        return None
    now = now or utcnow()
    fixed = settings.coupon_kind == "fixed_amount"
    case = RecoveryCase(
        store_id=store.id,
        order_platform_id=order.platform_id,
        order_name=order.name,
        customer_id=customer_id,
        reason=reason,
        source=source[:191],
        status=PENDING,
        code=new_code(),
        coupon_kind=settings.coupon_kind,
        coupon_value=settings.coupon_value,
        currency=order.currency if fixed else None,
        expires_at=now + timedelta(days=settings.expires_days),
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    try:
        with session.begin_nested():  # the loser of a race rolls back alone, and reads the winner's row
            session.add(case)
            session.flush()
    except IntegrityError:
        found = find_case(session, store, order_id)
        if found is None:
            raise  # not the order's key (a code drawn twice: 30^10 codes): the caller's retry draws another
        return found
    record(
        session,
        store,
        ShopperMessage(
            kind=RECOVERY,
            source_key=f"recovery:{case.id}",
            body=reason,
            customer_id=customer_id,
            order_platform_id=order.platform_id,
            order_name=order.name,
            ref=f"recovery_case:{case.id}",
            locale=order.locale,
        ),
        now,
    )
    log.info("recovery.opened", extra={"store_id": store.id, "case_id": case.id, "reason_code": reason})
    return case


def move_guest(session: Session, store: Store, guest_id: int, account_id: int) -> None:
    """A guest who signs up keeps their cases (records/customers merge hook): the coupon is theirs."""
    session.execute(
        update(RecoveryCase)
        .where(RecoveryCase.store_id == store.id, RecoveryCase.customer_id == guest_id)
        .values(customer_id=account_id)
        .execution_options(synchronize_session=False)
    )


def apology_prefix(case: RecoveryCase) -> str:
    return f"recovery:{case.id}:"


def _closed(case: RecoveryCase) -> bool:
    """Nothing left to take back: its code was used, or the coupon is (being) taken back already."""
    return case.status in (USED, REVERSING, REVERSED) or case.used_order_platform_id is not None


def take_back(session: Session, store: Store, case: RecoveryCase, now: datetime) -> None:
    """The refund path for one case: a coupon never created is never created (`reversed` at once), one in the
    store is deleted by the job (`reversing`; a coupon being created right now is moved there when it lands,
    tasks._succeeded), and a queued apology is cancelled. A `failed` case holding a coupon retries its deletion."""
    if case.coupon_platform_id is None and case.status in (PENDING, FAILED):
        case.status, case.reversed_at = REVERSED, now  # never reached the store: nothing to delete
    else:
        case.status, case.next_attempt_at, case.attempts = REVERSING, now, 0
    cancel_messages(session, store, dedupe_prefix=apology_prefix(case))
    log.info("recovery.reversing", extra={"store_id": store.id, "case_id": case.id})


def order_changed(session: Session, store: Store, order: Order, cases: list[RecoveryCase], now: datetime) -> int:
    """Take back the coupon of a case whose order no longer stands; how many cases it moved."""
    if _stands(order):
        return 0
    moved = 0
    for case in cases:
        if _closed(case):
            continue
        take_back(session, store, case, now)
        moved += 1
    return moved


class CaseRefused(Exception):
    """A merchant's action on a case that cannot be done; the message says why (the CLI prints it)."""


def refusal(session: Session, store: Store, order_id: str) -> str | None:
    """Why open_case would open nothing for this order (None: it would, or the order has its case already)."""
    settings = get_settings(store)
    if not settings.enabled:
        return "recovery is off for this store (settings: recovery.enabled)"
    order = find_order(session, store, order_id)
    if order is None:
        return f"no order {order_id} in this store"
    if not _stands(order):
        return f"order {order_id} is cancelled, deleted or refunded"
    if order.customer_id is None:
        return f"order {order_id} has no customer to apologise to"
    return None


def close_case(session: Session, store: Store, case: RecoveryCase, now: datetime) -> bool:
    """The merchant closes a case: its unused coupon is taken back as a refund would (take_back). False when it
    was closed already; CaseRefused when its code was used (a used coupon cannot be taken back)."""
    if case.status == USED or case.used_order_platform_id is not None:
        raise CaseRefused(f"its code was used on order {case.used_order_platform_id}: nothing to take back")
    if _closed(case):
        return False
    take_back(session, store, case, now)
    return True


def code_used(store: Store, order: Order, cases: list[RecoveryCase]) -> int:
    """Mark the cases whose code the order carries as used (WooCommerce lowercases codes: compared upper)."""
    codes = {code.upper() for code in order.discount_codes or []}
    used = 0
    for case in cases:
        if case.code in codes and case.used_order_platform_id is None and case.status != REVERSED:
            case.used_order_platform_id = order.platform_id
            if case.status != REVERSING:
                case.status = USED
            used += 1
    return used


def coupon_text(case: RecoveryCase) -> str:
    """The value as the messages show it: "10%" or "5.00 EUR" (a Decimal, never a float)."""
    if case.coupon_kind == "percentage":
        return f"{case.coupon_value.normalize():f}%"
    return f"{case.coupon_value.quantize(Decimal('0.01'))} {case.currency or ''}".strip()


def as_dict(case: RecoveryCase) -> dict[str, object]:
    return {
        "id": case.id,
        "order_id": case.order_platform_id,
        "order_name": case.order_name,
        "customer_id": case.customer_id,
        "reason": case.reason,
        "source": case.source,
        "status": case.status,
        "code": case.code,
        "coupon": {"kind": case.coupon_kind, "value": str(case.coupon_value), "currency": case.currency},
        "expires_at": case.expires_at.isoformat() if case.expires_at else None,
        "used_order_id": case.used_order_platform_id,
        "last_error": case.last_error,
        "created_at": case.created_at.isoformat(),
        "issued_at": case.issued_at.isoformat() if case.issued_at else None,
        "reversed_at": case.reversed_at.isoformat() if case.reversed_at else None,
    }
