"""The processing bench's data: stores and their histories into the inbox, and the final check.

Rows are written as the webhook route writes them (same columns, the
connector's own dedupe key, ON CONFLICT DO NOTHING), so the scenario's
repeated deliveries are recognised at the door exactly as in production.
Stores' deliveries are interleaved, so a claimed batch mixes stores.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
from decimal import Decimal

from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert

from app.demo.replay import verify as verify_scenario
from app.demo.scenario import Scenario, build_scenario
from connectors import get_connector

from .backends import Backends

CURRENCY = {"shopify": "USD", "woocommerce": "EUR"}  # the demo renderers' currencies


def load_inbox(backends: Backends, args: argparse.Namespace) -> tuple[Flask, dict[int, tuple[str, Scenario]], int]:
    os.environ.update(backends.env)
    from app import create_app
    from app.extensions import db
    from app.inbox.models import WebhookDelivery
    from app.platform.types import utcnow
    from app.security import secret_box
    from app.stores.service import add_store

    app = create_app()
    scenarios: dict[int, tuple[str, Scenario]] = {}
    streams = []
    with app.app_context():
        for n in range(args.stores):
            shop, site = f"bench{n}.myshopify.com", f"https://woo{n}.bench.example"
            scenario = build_scenario(
                seed=100 + n,
                customers=max(8, args.orders // args.stores // 10),
                orders=max(2, args.orders // args.stores),
                shopify_shop=shop,
                woo_site=site,
            )
            ids = {}
            for platform, domain, creds in (
                ("shopify", shop, {"access_token": "bench"}),
                ("woocommerce", site, {"consumer_key": "ck", "consumer_secret": "cs", "webhook_secret": "ws"}),
            ):
                store = add_store(db.session, secret_box(), platform, domain, creds, currency=CURRENCY[platform])
                ids[platform] = store.id
                only = [d for d in scenario.deliveries if d.platform == platform]
                part = Scenario(only, {k: v for k, v in scenario.expected.items() if k[0] == platform})
                scenarios[store.id] = (platform, part)
                streams.append([(store.id, d) for d in only])
        db.session.commit()
        now = utcnow()
        rows = []
        for item in itertools.chain.from_iterable(itertools.zip_longest(*streams)):
            if item is None:
                continue
            store_id, delivery = item
            connector = get_connector(delivery.platform)
            meta = connector.webhook_meta(delivery.headers)
            key = connector.dedupe_key(meta, json.loads(delivery.body), delivery.body)
            rows.append(
                dict(store_id=store_id, platform=delivery.platform, topic=meta.topic, dedupe_key=key)
                | dict(body=delivery.body, received_at=now, status="pending", attempts=0)
            )
        stmt = insert(WebhookDelivery).on_conflict_do_nothing(index_elements=["store_id", "dedupe_key"])
        for start in range(0, len(rows), 2000):
            db.session.execute(stmt, rows[start : start + 2000])
        db.session.commit()
        count = db.session.scalar(select(func.count()).select_from(WebhookDelivery))
        db.session.remove()
    return app, scenarios, int(count or 0)


# Customer aggregates recomputed in SQL from the orders table (the rules of records/customers.refresh_totals).
RECOMPUTE = text(
    """
    SELECT c.id, c.orders_count, c.total_spent,
           (SELECT count(*) FROM orders o WHERE o.store_id = c.store_id AND o.customer_id = c.id
              AND o.deleted_at IS NULL) AS want_count,
           (SELECT coalesce(sum(o.total_price - o.refunded_amount), 0) FROM orders o
              WHERE o.store_id = c.store_id AND o.customer_id = c.id AND o.deleted_at IS NULL
                AND o.cancelled_at IS NULL AND o.currency = c.currency) AS want_spent
    FROM customers c
    """
)


def verify(app: Flask, backends: Backends, scenarios: dict[int, tuple[str, Scenario]], count: int) -> list[str]:
    with backends.engine.connect() as conn:
        statuses = dict(conn.execute(text("SELECT status, count(*) FROM webhook_inbox GROUP BY status")).all())
        problems = [f"inbox: {statuses}, expected {count} done"] if statuses != {"done": count} else []
        for cid, have_count, have_spent, want_count, want_spent in conn.execute(RECOMPUTE):
            if (have_count, Decimal(have_spent)) != (want_count, Decimal(want_spent)):
                problems.append(f"customer #{cid}: {have_count}/{have_spent}, recomputed {want_count}/{want_spent}")
        refunds = text(
            "SELECT count(*) FROM orders o WHERE o.refunded_amount <> (SELECT coalesce(sum(r.amount), 0)"
            " FROM order_refunds r WHERE r.store_id = o.store_id AND r.order_platform_id = o.platform_id)"
        )
        if wrong := conn.execute(refunds).scalar_one():
            problems.append(f"{wrong} order(s) whose refunded amount is not the sum of their refunds")
    for store_id, (platform, scenario) in scenarios.items():
        problems += [f"store {store_id}: {line}" for line in verify_scenario(app, scenario, {platform: store_id})]
    return problems
