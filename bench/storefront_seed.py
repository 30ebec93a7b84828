"""Seed the storefront benchmark's store: 1,000,000 customers, loyalty for a sample of them, a reviewed product.

Everything is generated inside PostgreSQL (INSERT ... SELECT over generate_series: no rows cross the wire, so a
million customers take seconds), and every value is a function of the row's id, so the bench knows the right
answer to every request without asking the app: `expected_balance(customer id)` and `expected_summary()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

PRODUCT = "bench-product-1"
PUBLISHED_REVIEWS = 300
HELD_REVIEWS = 25  # not published: must not count in the summary
TIERS = (None, "silver", "gold")


@dataclass(frozen=True)
class Seeded:
    customers: int
    sample: list[tuple[int, str]]  # (customer id, platform id) of the customers the load uses


def _points(customer_id: int) -> tuple[int, int, int]:
    """(spendable order earn, pending order earn, spendable action) points of a sampled customer."""
    return 10 + customer_id % 90, 5 + customer_id % 50, 25


def expected_balance(customer_id: int) -> dict[str, Any]:
    spendable_order, pending_order, action = _points(customer_id)
    # The rows were created a day ago and expire after 12 inactive months (the default): nothing expiring soon.
    return {
        "pending": pending_order,
        "spendable": spendable_order + action,
        "expiring_30d": 0,
        "tier": TIERS[customer_id % 3],
    }


def _rating(n: int) -> int:
    return 1 + (n * 7 + n // 3) % 5


def expected_summary() -> dict[str, Any]:
    counts = {str(r): 0 for r in range(1, 6)}
    for n in range(1, PUBLISHED_REVIEWS + 1):
        counts[str(_rating(n))] += 1
    total = sum(int(r) * c for r, c in counts.items())
    average = f"{total / PUBLISHED_REVIEWS:.2f}"  # as app/reviews/reading.py formats it
    return {"product_id": PRODUCT, "count": PUBLISHED_REVIEWS, "average": average, "distribution": counts}


def settle(dsn: str) -> None:
    """Leave the database as a production one is, not one still digesting a bulk load: after a million-row
    INSERT, autovacuum's insert-triggered VACUUM and the next checkpoint would otherwise run during the
    measurement and land in the PostgreSQL-backed endpoint's tail. VACUUM cannot run in a transaction."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in ("customers", "points_ledger", "loyalty_accounts", "reviews"):
            conn.execute(f"VACUUM (ANALYZE) {table}")
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            pass  # a non-superuser bench role: the checkpoint comes when it comes


def seed(dsn: str, store_id: int, customers: int, sample_size: int) -> Seeded:
    with psycopg.connect(dsn) as conn:
        conn.execute(
            """
            INSERT INTO customers (store_id, platform_id, email, email_key, first_name, orders_count, currency,
                total_spent, total_refunded, spent_by_currency, details_from_account, created_at, updated_at)
            SELECT %(s)s, (1000 + g)::text, 'c' || g || '@bench.example', 'c' || g || '@bench.example',
                'Shopper' || g, 1 + g %% 7, 'EUR', 10 + g %% 500, 0, '{}'::json, true, now(), now()
            FROM generate_series(1, %(n)s) AS g
            """,
            {"s": store_id, "n": customers},
        )
        sample = conn.execute(
            "SELECT id, platform_id FROM customers WHERE store_id = %s ORDER BY random() LIMIT %s",
            (store_id, sample_size),
        ).fetchall()
        conn.execute("CREATE TEMP TABLE bench_sample (id bigint PRIMARY KEY)")
        with conn.cursor().copy("COPY bench_sample (id) FROM STDIN") as copy:
            for customer_id, _ in sample:
                copy.write_row((customer_id,))
        # Per sampled customer: an order whose points are spendable, one still pending, a spendable action.
        conn.execute(
            """
            INSERT INTO points_ledger (store_id, customer_id, source_key, kind, points, order_platform_id, rule,
                available_at, created_at)
            SELECT %(s)s, id, 'order:a' || id || ':earn', 'earn', 10 + id %% 90, 'a' || id, '{}'::json,
                now() - interval '1 hour', now() - interval '1 day' FROM bench_sample
            UNION ALL
            SELECT %(s)s, id, 'order:b' || id || ':earn', 'earn', 5 + id %% 50, 'b' || id, '{}'::json,
                NULL::timestamptz, now() - interval '1 day' FROM bench_sample
            UNION ALL
            SELECT %(s)s, id, 'action:signup:' || id, 'action', 25, NULL, '{}'::json,
                now() - interval '1 hour', now() - interval '1 day' FROM bench_sample
            """,
            {"s": store_id},
        )
        conn.execute(
            """
            INSERT INTO loyalty_accounts (store_id, customer_id, balance, pending, spendable, held, lifetime_earned,
                tier, refreshed_at, updated_at)
            SELECT %(s)s, id, 40 + id %% 90 + id %% 50, 5 + id %% 50, 35 + id %% 90, 0, 40 + id %% 90 + id %% 50,
                (ARRAY[NULL, 'silver', 'gold'])[1 + id %% 3], now(), now() FROM bench_sample
            """,
            {"s": store_id},
        )
        conn.execute(
            """
            INSERT INTO reviews (store_id, product_id, product_title, order_platform_id, rating, title, body,
                photos, display_name, verified, status, published_at, created_at, updated_at)
            SELECT %(s)s, %(p)s, 'Bench product', 'r' || g,
                CASE WHEN g <= %(n)s THEN 1 + (g * 7 + g / 3) %% 5 ELSE 1 END, 'Title ' || g, 'Body ' || g,
                '[]', 'Reviewer ' || g, true, CASE WHEN g <= %(n)s THEN 'published' ELSE 'held' END,
                CASE WHEN g <= %(n)s THEN now() - g * interval '1 minute' END, now(), now()
            FROM generate_series(1, %(n)s + %(h)s) AS g
            """,
            {"s": store_id, "p": PRODUCT, "n": PUBLISHED_REVIEWS, "h": HELD_REVIEWS},
        )
        count = conn.execute("SELECT count(*) FROM customers WHERE store_id = %s", (store_id,)).fetchone()
    settle(dsn)
    return Seeded(customers=int(count[0]) if count else 0, sample=[(int(i), str(p)) for i, p in sample])
