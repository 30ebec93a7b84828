"""Deciding a customer's surprises, and what happens to them when their order changes. No HTTP here: the code's
write-back and the points are the job's (tasks.py), from the row, which is its outbox (docs/surprises.md).

decide(session, store, customer_ids, now): for each customer, each of the store's thresholds N their paid, standing
    orders (records: not cancelled, not deleted; placed order, then platform id) have reached is decided once:
    the Nth order earns the surprise (`pending`, its code drawn now), or the decision is `skipped` with its
    reason (a past order from the history import, an order paid before the programme started, an order refunded
    in full, a customer outside the threshold's segment). Every threshold reached, not only the one the order in
    hand makes: a shuffled delivery of a customer's orders decides the same thresholds as the ordered one. The
    (store, customer, threshold) unique key decides between two workers: insert-or-nothing (platform/sql
    .insert_row), never a check-then-act; the read before it only spares the SAVEPOINT for thresholds known.
order_changed(session, store, orders, now): the earning order cancelled, deleted or refunded in full before its
    code was used -> `reversing` (the job deletes the code in the store or takes the points back), or `reversed`
    at once when nothing was ever tried; queued messages cancelled. An order that carries a surprise's code marks it
    `used` first. Transitions are conditional UPDATEs on the status read, so a job finishing meanwhile is never
    overwritten by a stale decision.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.messaging import cancel_messages
from app.platform.sql import chunks, get_in_store, in_keys, insert_row
from app.records.history import policy
from app.records.models import Customer, Order
from app.segments.api import segments_of
from app.stores.models import Store
from app.surprises.models import CODED, ISSUED, PENDING, REVERSED, REVERSING, SKIPPED, USED, Surprise
from app.surprises.settings import SurpriseSettings, Threshold, get_settings

log = logging.getLogger(__name__)
# Unambiguous symbols (no 0/O, 1/I/L, U), as the recovery and loyalty codes: read aloud, typed from a phone.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "THANKS-"


def new_code() -> str:
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(10))


def counts(order: Order) -> bool:
    """An order the customer's count includes: paid and standing (records' rule: cancelled ones do not count)."""
    return order.paid_at is not None and order.cancelled_at is None and order.deleted_at is None


def earns(order: Order) -> bool:
    """An order that may hold a surprise: counted, and not refunded in full."""
    return counts(order) and not (order.total_price > 0 and order.refunded_amount >= order.total_price)


def message_prefix(surprise: Surprise) -> str:
    return f"surprise:{surprise.id}:"


def decide(session: Session, store: Store, customer_ids: Iterable[int], now: datetime) -> list[Surprise]:
    """Decide every threshold these customers reached and have no row for; the rows this call inserted."""
    settings = get_settings(store)
    if not settings.enabled or not settings.thresholds or settings.started_at is None:
        return []
    lowest = settings.thresholds[0].order
    wanted = sorted({cid for cid in customer_ids if _may_reach(session, store, cid, lowest)})
    made: list[Surprise] = []
    for part in chunks(wanted):
        made += _decide_part(session, store, settings, part, now)
    return made


def _may_reach(session: Session, store: Store, customer_id: int, lowest: int) -> bool:
    """records' orders_count (cancelled included) bounds the paid, standing count: most customers stop here, with
    no query (the batch has the customer rows in the session)."""
    customer = get_in_store(session, Customer, customer_id, store.id)
    return customer is not None and customer.orders_count >= lowest


def _decide_part(
    session: Session, store: Store, settings: SurpriseSettings, customer_ids: Sequence[int], now: datetime
) -> list[Surprise]:
    orders: dict[int, list[Order]] = defaultdict(list)
    stmt = select(Order).where(Order.store_id == store.id, in_keys(session, Order.customer_id, customer_ids))
    for order in session.scalars(stmt.order_by(Order.placed_at, Order.platform_id)):
        if counts(order):
            orders[order.customer_id].append(order)  # type: ignore[index]  # selected by customer id
    decided = set(
        session.execute(
            select(Surprise.customer_id, Surprise.threshold).where(
                Surprise.store_id == store.id, in_keys(session, Surprise.customer_id, customer_ids)
            )
        ).tuples()
    )
    made: list[Surprise] = []
    for customer_id in customer_ids:
        ranked = orders.get(customer_id, [])
        for threshold in settings.thresholds:
            if threshold.order > len(ranked) or (customer_id, threshold.order) in decided:
                continue
            row = _decide_one(session, store, settings, threshold, customer_id, ranked[threshold.order - 1], now)
            if row is not None:
                made.append(row)
    return made


def _skip_reason(
    session: Session, store: Store, settings: SurpriseSettings, threshold: Threshold, customer_id: int, order: Order,
    now: datetime,
) -> str | None:  # fmt: skip
    found = policy(session, store.id)
    if found is not None and found.past(order):
        return "past_order"  # imported history never surprises anyone (records/history.py)
    assert order.paid_at is not None and settings.started_at is not None
    if order.paid_at < settings.started_at:
        return "before_start"
    if not earns(order):
        return "order_not_standing"
    if threshold.segment is not None:
        customer = session.get(Customer, customer_id)
        if customer is None or threshold.segment not in segments_of(session, store, customer, now):
            return "segment"
    return None


def _decide_one(
    session: Session, store: Store, settings: SurpriseSettings, threshold: Threshold, customer_id: int, order: Order,
    now: datetime,
) -> Surprise | None:  # fmt: skip
    skip = _skip_reason(session, store, settings, threshold, customer_id, order, now)
    coded = threshold.kind in CODED
    for _ in range(3):  # a code drawn twice (30^10 codes) is drawn again
        row = Surprise(
            store_id=store.id,
            customer_id=customer_id,
            threshold=threshold.order,
            order_platform_id=order.platform_id,
            order_name=order.name,
            status=SKIPPED if skip else PENDING,
            skip_reason=skip,
            kind=threshold.kind,
            value=threshold.value,
            currency=order.currency if threshold.kind == "fixed_amount" else None,
            points=threshold.points,
            code=new_code() if coded and not skip else None,
            expires_at=now + timedelta(days=threshold.expires_days) if coded and not skip else None,
            attempts=0,
            next_attempt_at=None if skip else now,
            created_at=now,
        )
        if insert_row(session, row):
            log.info(
                "surprises.decided",
                extra={"store_id": store.id, "surprise_id": row.id, "threshold": row.threshold, "reason": skip or ""},
            )
            return row
        if _has_row(session, store, customer_id, threshold.order):
            return None  # another worker decided it: theirs stands
    raise RuntimeError("could not draw a free surprise code")


def _has_row(session: Session, store: Store, customer_id: int, threshold: int) -> bool:
    stmt = select(Surprise.id).where(
        Surprise.store_id == store.id, Surprise.customer_id == customer_id, Surprise.threshold == threshold
    )
    return session.scalar(stmt) is not None


def order_changed(session: Session, store: Store, orders: Sequence[Order], now: datetime) -> int:
    """Codes used, then surprises whose earning order no longer stands taken back; how many rows moved."""
    moved = _codes_used(session, store, orders)
    gone = [o.platform_id for o in orders if not earns(o)]
    if not gone:
        return moved
    stmt = select(Surprise).where(
        Surprise.store_id == store.id,
        in_keys(session, Surprise.order_platform_id, gone),
        Surprise.status.in_((PENDING, ISSUED)),
        Surprise.used_order_platform_id.is_(None),
    )
    for surprise in session.scalars(stmt).all():
        moved += take_back(session, store, surprise, now)
    return moved


def take_back(session: Session, store: Store, surprise: Surprise, now: datetime) -> int:
    """pending and never tried -> reversed; else -> reversing (the job deletes the code or reverses the points)."""
    mine = (Surprise.store_id == store.id, Surprise.id == surprise.id)
    base = update(Surprise).where(*mine, Surprise.used_order_platform_id.is_(None))
    untried = base.where(Surprise.status == PENDING, Surprise.attempts == 0, Surprise.code_platform_id.is_(None))
    done = session.execute(
        untried.values(status=REVERSED, reversed_at=now, next_attempt_at=None),
        execution_options={"synchronize_session": "fetch"},
    ).rowcount  # type: ignore[attr-defined]
    if not done:
        done = session.execute(
            base.where(Surprise.status.in_((PENDING, ISSUED))).values(
                status=REVERSING, next_attempt_at=now, attempts=0
            ),
            execution_options={"synchronize_session": "fetch"},
        ).rowcount  # type: ignore[attr-defined]
    if done:
        cancel_messages(session, store, dedupe_prefix=message_prefix(surprise))
        log.info("surprises.taken_back", extra={"store_id": store.id, "surprise_id": surprise.id})
    return int(done)


def _codes_used(session: Session, store: Store, orders: Sequence[Order]) -> int:
    """An order carrying a surprise's code marks it used (WooCommerce lowercases codes: compared upper)."""
    by_code = {c.upper(): o for o in orders for c in o.discount_codes or [] if c.upper().startswith(PREFIX)}
    if not by_code:
        return 0
    used = 0
    stmt = select(Surprise).where(Surprise.store_id == store.id, Surprise.code.in_(sorted(by_code)))
    for surprise in session.scalars(stmt).all():
        if surprise.used_order_platform_id is None and surprise.code is not None:
            surprise.used_order_platform_id = by_code[surprise.code].platform_id
            if surprise.status == ISSUED:
                surprise.status = USED
            used += 1
    return used


def move_guest(session: Session, store: Store, guest_id: int, account_id: int) -> None:
    """A guest who signs up keeps their surprises for the thresholds the account has none for (records/customers
    merge hook); a threshold both had keeps the guest's row without a customer (the FK's SET NULL)."""
    held = select(Surprise.threshold).where(Surprise.store_id == store.id, Surprise.customer_id == account_id)
    session.execute(
        update(Surprise)
        .where(Surprise.store_id == store.id, Surprise.customer_id == guest_id, Surprise.threshold.not_in(held))
        .values(customer_id=account_id)
        .execution_options(synchronize_session=False)
    )


def reward_text(surprise: Surprise) -> str:
    """What it gives, as the messages show it: "10%", "5.00 EUR", "free shipping" is the template's, "500"."""
    if surprise.kind == "percentage":
        return f"{surprise.value.normalize():f}%"
    if surprise.kind == "fixed_amount":
        return f"{surprise.value.quantize(Decimal('0.01'))} {surprise.currency or ''}".strip()
    if surprise.kind == "points":
        return str(surprise.points)
    return ""


def _plain(value: Decimal) -> str:
    """The same string from both databases (PostgreSQL's NUMERIC(18, 4) answers 10.0000): "10", "7.5"."""
    return format(value.normalize(), "f")


def as_dict(surprise: Surprise) -> dict[str, object]:
    return {
        "id": surprise.id,
        "customer_id": surprise.customer_id,
        "threshold": surprise.threshold,
        "order_id": surprise.order_platform_id,
        "order_name": surprise.order_name,
        "status": surprise.status,
        "skip_reason": surprise.skip_reason,
        "kind": surprise.kind,
        "value": _plain(surprise.value) if surprise.kind in ("percentage", "fixed_amount") else None,
        "currency": surprise.currency,
        "points": surprise.points if surprise.kind == "points" else None,
        "code": surprise.code,
        "expires_at": surprise.expires_at.isoformat() if surprise.expires_at else None,
        "used_order_id": surprise.used_order_platform_id,
        "last_error": surprise.last_error,
        "created_at": surprise.created_at.isoformat(),
        "issued_at": surprise.issued_at.isoformat() if surprise.issued_at else None,
        "reversed_at": surprise.reversed_at.isoformat() if surprise.reversed_at else None,
    }
