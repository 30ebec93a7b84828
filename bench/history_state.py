"""A store's records after its history import, keyed by platform ids, to compare two databases (bench/history_kill.py).

Internal ids are left out: a killed transaction uses up sequence values, so the same records get other ids in a
database whose import was killed and resumed. Customers are named by their platform id (or, a guest, their
e-mail key) wherever a row points at one. Timestamps the import writes from the clock (created_at, updated_at,
refreshed_at, available_at) are left out too; every date taken from the platform's data is in.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

# One query per table: the columns the issue names (customers: platform ids, e-mail keys, order counts, totals;
# orders: totals, refunded amount, customer, paid/shipped/delivered dates; refunds; fulfilments; ledger rows),
# what the import derives from them (the Overview's daily rollup, the loyalty accounts) and its progress row.
QUERIES = {
    "customers": """
        SELECT platform_id, email_key, orders_count, currency, total_spent, total_refunded,
               spent_by_currency::text, first_order_at, last_order_at
        FROM customers WHERE store_id = :store""",
    "orders": """
        SELECT o.platform_id, o.currency, o.total_price, o.subtotal_price, o.refunded_amount, o.financial_status,
               o.fulfillment_status, coalesce(c.platform_id, c.email_key), o.placed_at, o.paid_at, o.fulfilled_at,
               o.delivered_at, o.cancelled_at, o.platform_updated_at, o.prev_placed_at, o.next_placed_at,
               md5(o.line_items::text)
        FROM orders o LEFT JOIN customers c ON c.id = o.customer_id AND c.store_id = o.store_id
        WHERE o.store_id = :store""",
    "refunds": """
        SELECT order_platform_id, platform_id, amount, currency, refunded_at
        FROM order_refunds WHERE store_id = :store""",
    "fulfillments": """
        SELECT order_platform_id, platform_id, status, shipment_status, shipped_at, delivered_at,
               platform_updated_at, carrier_statuses::text
        FROM fulfillments WHERE store_id = :store""",
    "ledger": """
        SELECT l.source_key, l.kind, l.points, l.order_platform_id, coalesce(c.platform_id, c.email_key),
               l.rule::text
        FROM points_ledger l JOIN customers c ON c.id = l.customer_id AND c.store_id = l.store_id
        WHERE l.store_id = :store""",
    "loyalty_accounts": """
        SELECT coalesce(c.platform_id, c.email_key), a.balance, a.lifetime_earned, a.tier
        FROM loyalty_accounts a JOIN customers c ON c.id = a.customer_id AND c.store_id = a.store_id
        WHERE a.store_id = :store""",
    "history_imports": """
        SELECT status, phase, earn_points, customers_done, customers_total, orders_done, orders_total, failed
        FROM history_imports WHERE store_id = :store""",
    "order_days": """
        SELECT day, currency, orders, returning_orders, revenue_units, returning_units
        FROM order_days WHERE store_id = :store""",
}


def _key(row: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple("" if value is None else str(value) for value in row)


def snapshot(engine: Engine, store_id: int) -> dict[str, list[tuple[str, ...]]]:
    """Every table's rows for the store, spelt as strings and sorted (the order rows come in does not matter)."""
    with engine.connect() as conn:
        return {
            table: sorted(_key(tuple(row)) for row in conn.execute(text(sql), {"store": store_id}))
            for table, sql in QUERIES.items()
        }


def summary(state: dict[str, list[tuple[str, ...]]]) -> dict[str, dict[str, Any]]:
    """Per table: its row count and a SHA-256 of its sorted rows (the first 16 hex digits)."""
    out = {}
    for table, rows in state.items():
        digest = hashlib.sha256("\n".join("\t".join(row) for row in rows).encode()).hexdigest()
        out[table] = {"rows": len(rows), "sha256": digest[:16]}
    return out


def differences(
    left: dict[str, list[tuple[str, ...]]], right: dict[str, list[tuple[str, ...]]], limit: int = 3
) -> list[str]:
    """The first rows each side has and the other has not, per table that differs."""
    found = []
    for table in left:
        if left[table] == right[table]:
            continue
        only_left = sorted(set(left[table]) - set(right[table]))
        only_right = sorted(set(right[table]) - set(left[table]))
        found.append(
            f"{table}: {len(left[table])} rows against {len(right[table])}; "
            f"{len(only_left)} only in the resumed import, {len(only_right)} only in the uninterrupted one"
        )
        found += [f"  resumed only: {row}" for row in only_left[:limit]]
        found += [f"  uninterrupted only: {row}" for row in only_right[:limit]]
        if not only_left and not only_right:
            found.append("  the same rows, not as often (a row repeated on one side)")
    return found
