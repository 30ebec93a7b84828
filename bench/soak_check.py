"""The soak's stores in the database, and the end-state check against the generator's expectation.

The check reads the database directly (one connection, read-only queries):
- every acknowledged webhook has its inbox row (store, dedupe key) and the row is `done`: else it is lost;
- every scenario customer's record equals `expected` (orders, spend, guest: app/demo/replay.verify) and the sum of
  their points-ledger rows equals expected["points"]; the seeded customers bought nothing, so they must be as
  they were (no orders, no points);
- nothing doubled: points (two ledger rows for one order's earn or one account's signup), codes (a redemption or
  referral code twice in a store), messages (two messages of the same template and context to one customer),
  review requests (two for one order's fulfilment).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import Flask
from sqlalchemy import Insert, String, cast, func, insert, literal, select, text
from sqlalchemy.engine import Engine

from app.demo.replay import verify as verify_customers

from .soak_stream import CURRENCY, WOO_SECRET, StoreSpec


def create_stores(app: Flask, specs: list[StoreSpec], customers: int) -> dict[int, int]:
    """Each store registered as `flask stores add` does; its extra customers written in bulk. {index: store_id}.

    The extra customers are made by PostgreSQL itself (INSERT ... SELECT over generate_series, the model's
    Python defaults rendered once as parameters): at 1,000 stores x 1,000 customers, building and sending a
    million rows from here took minutes. One transaction for all the stores: one commit, not one per store."""
    from app.extensions import db
    from app.security import secret_box
    from app.stores.service import add_store

    ids: dict[int, int] = {}
    with app.app_context():
        box = secret_box()
        for spec in specs:
            creds = (
                {"access_token": "soak"}
                if spec.platform == "shopify"
                else {"consumer_key": "ck", "consumer_secret": "cs", "webhook_secret": WOO_SECRET}
            )
            currency = CURRENCY[spec.platform]
            store = add_store(db.session, box, spec.platform, spec.domain, creds, currency=currency)
            ids[spec.index] = store.id
            extra = customers - len(spec.scenario.expected)
            if extra > 0:
                db.session.execute(_seeded_customers(store.id, currency, extra))
        db.session.commit()
        db.session.remove()
    return ids


def _seeded_customers(store_id: int, currency: str, count: int) -> Insert:
    """`count` customers who buy nothing: platform ids 8,000,000,000 + n, e-mail seeded<n>@example.org."""
    from app.records.models import Customer

    n = func.generate_series(0, count - 1).table_valued("n").render_derived(name="seeded")
    email = literal("seeded").concat(n.c.n).concat("@example.org")
    columns = ["store_id", "platform_id", "email", "email_key", "first_name", "last_name", "currency", "orders_count"]
    rows = select(
        literal(store_id),
        cast(8_000_000_000 + n.c.n, String),
        email,
        email,
        literal("Seeded"),
        cast(n.c.n, String),
        literal(currency),
        literal(0),
    )
    return insert(Customer).from_select(columns, rows)


def inbox_rows(engine: Engine) -> dict[tuple[int, str], tuple[str, Any, Any]]:
    """{(store_id, dedupe_key): (status, received_at, processed_at)}."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT store_id, dedupe_key, status, received_at, processed_at FROM webhook_inbox"))
        return {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows}


def not_done(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM webhook_inbox WHERE status <> 'done' GROUP BY status"))
        return {status: int(n) for status, n in rows}


def check_records(app: Flask, engine: Engine, specs: list[StoreSpec], ids: dict[int, int]) -> list[str]:
    problems: list[str] = []
    points: dict[int, dict[str, int]] = defaultdict(dict)
    with engine.connect() as conn:
        for store_id, key, total in conn.execute(
            text(
                "SELECT c.store_id, c.email_key, coalesce(sum(l.points), 0) FROM customers c"
                " LEFT JOIN points_ledger l ON l.store_id = c.store_id AND l.customer_id = c.id"
                " GROUP BY c.store_id, c.id, c.email_key"
            )
        ):
            points[store_id][key or ""] = int(total)
        seeded_bought = conn.execute(
            text("SELECT count(*) FROM customers WHERE email_key LIKE 'seeded%' AND orders_count <> 0")
        ).scalar_one()
    if seeded_bought:
        problems.append(f"{seeded_bought} seeded customer(s) gained orders")
    for spec in specs:
        store_id = ids[spec.index]
        lines = verify_customers(app, spec.scenario, {spec.platform: store_id}, skip_prefix="seeded")
        problems += [f"store {store_id}: {line}" for line in lines]
        for (_, email), want in spec.scenario.expected.items():
            have = points[store_id].get(email)
            if have is not None and have != want["points"]:
                problems.append(f"store {store_id} {email}: {have} points, expected {want['points']}")
        seeded = [v for k, v in points[store_id].items() if k.startswith("seeded") and v]
        if seeded:
            problems.append(f"store {store_id}: {len(seeded)} seeded customer(s) with points")
    return problems


DOUBLES = {
    "points (an order's earn or an account's signup twice)": (
        "SELECT count(*) FROM (SELECT store_id, customer_id, kind, order_platform_id FROM points_ledger"
        " WHERE kind IN ('earn', 'signup') GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d"
    ),
    "codes (a redemption or referral code twice)": (
        "SELECT (SELECT count(*) FROM (SELECT store_id, code FROM redemptions GROUP BY 1, 2 HAVING count(*) > 1) a)"
        " + (SELECT count(*) FROM (SELECT store_id, customer_id FROM referral_codes GROUP BY 1, 2"
        " HAVING count(*) > 1) b)"
    ),
    "messages (same template and context to one customer twice)": (
        "SELECT count(*) FROM (SELECT store_id, customer_id, template, CAST(context AS text) FROM messages"
        " GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d"
    ),
    "review requests (one order's fulfilment twice)": (
        "SELECT count(*) FROM (SELECT store_id, order_platform_id, fulfillment_key FROM review_requests"
        " GROUP BY 1, 2, 3 HAVING count(*) > 1) d"
    ),
}


def doubles(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {label: int(conn.execute(text(sql)).scalar_one()) for label, sql in DOUBLES.items()}


def totals(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608  (fixed names)
            for table in ("orders", "customers", "points_ledger", "messages", "review_requests", "redemptions")
        }
