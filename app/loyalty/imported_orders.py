"""Points for the past orders of a history import's bulk chunk (inbox/history_bulk.py), set-based, once per chunk.

Why: with points for past orders, the loyalty follower (loyalty/follower.py, orders.reconcile_loaded) took each
past order through the ORM (the order, its refunds and parcels loaded as objects, a PointsLedger object per row,
each owner's account refreshed as objects): most of the orders' bulk phase, 3-4x the phase without points
(bench/README.md). Registered with inbox/history_bulk_past.py, this writes the same rows for the chunk's past
orders at once, for those it can decide exactly; the follower gets the others, as before:
1. the orders (as the chunk's statements left them, standing: not cancelled, not deleted), which of them hold
   ledger rows, their refunds (ordered by platform id, as the follower reads them) and their owners' tiers (as held
   before the chunk, as the follower reads them) are read as tuples, one query each per 5,000 orders;
2. an order that holds no ledger row gets what reconcile_loaded appends to such an order, by the same functions:
   when paid, with a customer and the programme on, `order:<pid>:earn` (orders.order_rule with the owner's tier,
   marked `"imported": "1"` when placed before the cut-off, points_for, available from orders.available_from),
   then `refund:<refund pid>:reverse` per refund (cumulative reversal_target by the earn's rule); an order without
   a customer gets nothing;
3. the rows go in by one `INSERT ... SELECT FROM unnest(...) ON CONFLICT (store_id, source_key) DO NOTHING` (a row
   a webhook or an earlier try wrote first is never doubled), their day marked for the Overview's rollup;
4. every owner is marked for the batch's account refresh (refresh.IMPORTED_ACCOUNTS), which the follower does
   after its own, by statements (loyalty/account_rows.py; a tier decided through the ORM), as of the chunk's now.
An order that holds rows (a webhook or an earlier import gave it points: moving them, a refund or a cancellation
to reflect) or does not stand is left to the follower. docs/history-import.md.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, Text, cast, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.loyalty import points_days
from app.loyalty.account_rows import CHUNK, refresh_set_based, unnest
from app.loyalty.models import LoyaltyAccount, PointsLedger
from app.loyalty.orders import available_from, order_rule, points_for, refund_rule, reversal_target
from app.loyalty.refresh import IMPORTED_ACCOUNTS
from app.loyalty.settings import LoyaltySettings, get_settings
from app.platform.sql import chunks, in_keys
from app.records import batch_scope
from app.records.bulk import writes_customers
from app.records.history import Policy, policy
from app.records.models import Order, OrderRefund
from app.stores.models import Store

_TYPES = {
    "customer_id": BigInteger,
    "source_key": Text,
    "kind": Text,
    "points": Integer,
    "order_platform_id": Text,
    "rule": Text,
    "available_at": DateTime(timezone=True),
}


def orders_imported(session: Session, store: Store, platform_ids: Sequence[str], now: datetime) -> set[str]:
    """The follower's rows for the chunk's past orders it can decide (step 2); returns their platform ids."""
    settings, found = get_settings(store), policy(session, store.id)
    taken: set[str] = set()
    owners: set[int] = set()
    for chunk in chunks(sorted(set(platform_ids)), CHUNK):
        taken |= _chunk(session, store, settings, found, chunk, owners, now)
    batch = batch_scope.current(session)
    if batch is not None:
        batch.marks(IMPORTED_ACCOUNTS).update((store.id, cid) for cid in owners)
    elif owners:
        refresh_set_based(session, store, owners, now)
    return taken


def _chunk(
    session: Session,
    store: Store,
    settings: LoyaltySettings,
    found: Policy | None,
    pids: Sequence[str],
    owners: set[int],
    now: datetime,
) -> set[str]:
    ledger = PointsLedger.__table__.c
    held = set(
        session.scalars(
            select(ledger.order_platform_id)
            .where(ledger.store_id == store.id, in_keys(session, ledger.order_platform_id, pids))
            .distinct()
        )
    )
    columns = (Order.platform_id, Order.customer_id, Order.currency, Order.total_price, Order.subtotal_price)
    stmt = select(*columns, Order.placed_at, Order.paid_at, Order.delivered_at, Order.fulfilled_at).where(
        Order.store_id == store.id,
        in_keys(session, Order.platform_id, pids),
        Order.cancelled_at.is_(None),
        Order.deleted_at.is_(None),
    )
    orders = sorted((row for row in session.execute(stmt) if row.platform_id not in held), key=lambda r: r.platform_id)
    earning = [o for o in orders if o.customer_id is not None and o.paid_at is not None and settings.enabled]
    refunds: dict[str, list[Any]] = defaultdict(list)
    tiers: dict[int, str | None] = {}
    if earning:
        for refund in session.execute(
            select(OrderRefund.order_platform_id, OrderRefund.platform_id, OrderRefund.amount)
            .where(
                OrderRefund.store_id == store.id,
                in_keys(session, OrderRefund.order_platform_id, [o.platform_id for o in earning]),
            )
            .order_by(OrderRefund.platform_id)
        ):
            refunds[refund.order_platform_id].append(refund)
        held_tiers = select(LoyaltyAccount.customer_id, LoyaltyAccount.tier).where(
            LoyaltyAccount.store_id == store.id,
            in_keys(session, LoyaltyAccount.customer_id, sorted({o.customer_id for o in earning})),
        )
        tiers = {row.customer_id: row.tier for row in session.execute(held_tiers)}
    values: dict[str, list[Any]] = {name: [] for name in _TYPES}

    def add(order: Any, key: str, kind: str, points: int, rule: dict[str, Any], when: datetime | None) -> None:
        row = (order.customer_id, key, kind, int(points), order.platform_id, json.dumps(rule), when)
        for name, value in zip(_TYPES, row, strict=True):
            values[name].append(value)

    for order in earning:  # reconcile_loaded on an order with no rows: the earn, then each refund's reversal
        rule = order_rule(
            settings, order.subtotal_price, order.total_price, order.currency, tiers.get(order.customer_id)
        )
        if found is not None and found.past_at(order.placed_at):
            rule["imported"] = "1"  # as orders.reconcile_loaded marks it (docs/history-import.md)
        earned, earn_key = points_for(rule), f"order:{order.platform_id}:earn"
        add(order, earn_key, "earn", earned, rule, available_from(settings, order.delivered_at, order.fulfilled_at))
        reflected, reversed_so_far = Decimal("0"), 0
        for refund in refunds[order.platform_id]:
            reflected += refund.amount
            target = reversal_target(earned, rule, reflected)
            add(order, f"refund:{refund.platform_id}:reverse", "reverse", -(target - reversed_so_far),
                refund_rule(refund.amount, earn_key), None)  # fmt: skip
            reversed_so_far = target
    if values["source_key"]:
        _insert(session, store, values, now)
    owners.update(o.customer_id for o in orders if o.customer_id is not None)
    return {o.platform_id for o in orders}


def _insert(session: Session, store: Store, values: dict[str, list[Any]], now: datetime) -> None:
    given = unnest(values, _TYPES)
    names = [n for n in _TYPES if n != "rule"]
    rows = select(
        literal(store.id),
        *(given.c[n] for n in names),
        cast(given.c.rule, JSON),
        literal(now, DateTime(timezone=True)),
    )
    stmt = (
        insert(PointsLedger)
        .from_select(["store_id", *names, "rule", "created_at"], rows)
        .on_conflict_do_nothing(index_elements=["store_id", "source_key"])
    )
    session.execute(stmt, execution_options=writes_customers(store.id, sorted(set(values["customer_id"]))))
    points_days.mark(session, store.id, now)  # the Overview's daily rollup recounts that day at commit
