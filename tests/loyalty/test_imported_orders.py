"""loyalty/imported_orders.py (the points of a history import's past orders, set-based per bulk chunk) leaves the
ledger rows, loyalty accounts, write-back rows and tier history that the loyalty follower, order by order, leaves.

The same Shopify history is imported with points, by the bulk path (PostgreSQL), into two stores: one with the
set-based twin registered (history_bulk_past.PAST_ORDERS_HOOKS), one without it (every past order to the follower, as
before). The history has paid and unpaid orders, one and two refunds, parcels delivered, in transit or none, guest
orders (held points), a second currency with its own rate, subtotals below totals, cancelled and discounted orders
(the batch path's), and two orders a webhook recorded (and gave points) before the import: the twin leaves those to
the follower. The twin's store dies inside its second chunk and resumes. Settings: once without tiers (past points
kept out of tiers), once with two tiers reached during the import (their multipliers price the later chunks'
orders, their rewards are given) and past points counted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.inbox import history_apply, history_bulk_past
from app.inbox.history_import import run
from app.inbox.history_import import start as set_up
from app.loyalty import imported_orders
from app.loyalty.models import LoyaltyAccount, LoyaltyTierChange, LoyaltyWriteback, PointsLedger
from app.loyalty.settings import update_settings
from app.platform.types import utcnow
from app.records.models import Customer
from app.stores.models import Store
from tests.helpers import SHOP, add_store, dumps, process_all, shopify_headers, shopify_standin
from tests.inbox.history import crash_inside_the_second_chunk, gql_customer, gql_order, rest_order
from tests.loyalty.conftest import ledger_recount, points_days_rows

CUSTOMERS, ORDERS, CHUNK = 30, 600, 200
OTHER = "other-shop.myshopify.com"
EARLY = (3, 4)  # orders a webhook recorded first (4 is refunded)

PLAIN = {"points_per_unit": {"default": "1", "USD": "0.5"}}
TIERED = {
    "points_per_unit": {"default": "1", "USD": "0.5"},
    "basis": "total",
    "rounding": "half_up",
    "tiers": [
        {"name": "silver", "threshold": "300", "basis": "points_earned", "window": "lifetime", "multiplier": "1.25",
         "reward_points": 10},
        {"name": "gold", "threshold": "900", "basis": "points_earned", "window": "lifetime", "multiplier": "1.5",
         "reward_points": 30},
    ],
}  # fmt: skip


@pytest.fixture
def postgres(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the bulk path is PostgreSQL's (SQLite keeps the batch path, the follower's)")


def _money(amount: str, currency: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": currency}}


def _node(n: int) -> dict[str, Any]:
    node = gql_order(n, CUSTOMERS)
    currency = "USD" if n % 11 == 0 else "EUR"
    total = node["totalPriceSet"]["shopMoney"]["amount"]
    node["currencyCode"] = currency
    node["totalPriceSet"] = _money(total, currency)
    node["subtotalPriceSet"] = _money(f"{int(float(total) * 0.8)}.37" if n % 3 == 0 else total, currency)
    for refund in node["refunds"]:
        refund["totalRefundedSet"] = _money("10.00", currency)
    if n % 6 == 0:  # a second refund (with n % 4 == 0: two, reversed in platform id order)
        node["refunds"].append(
            {"id": f"gid://shopify/Refund/{950000 + n}", "createdAt": node["updatedAt"],
             "totalRefundedSet": _money("7.35", currency)}
        )  # fmt: skip
        node["displayFinancialStatus"] = "PARTIALLY_REFUNDED"
    if n % 9 == 0:
        node["displayFinancialStatus"] = "PENDING"  # not paid: no points
    if n % 5 == 0:
        node["fulfillments"][0]["displayStatus"] = "IN_TRANSIT"  # spendable after the fulfilled fallback
    if n % 10 == 7:
        node["fulfillments"] = []  # pending, no date
    if n % 7 == 0:
        node["customer"], node["email"] = None, f"guest{n % 3}@example.com"  # a guest: held points
    if n % 13 == 0:
        node["cancelledAt"] = node["updatedAt"]
    if n % 17 == 0:
        node["discountCodes"] = ["SAVE10"]
    return node


def _customer_keys(store_id: int) -> dict[int, tuple]:
    rows = db.session.execute(
        select(Customer.id, Customer.platform_id, Customer.email_key).where(Customer.store_id == store_id)
    )
    return {row.id: (row.platform_id, row.email_key) for row in rows}


def _state(store_id: int, since: datetime) -> dict[str, list[tuple]]:
    """Every loyalty row of the store without our ids, customers by their platform keys, and the moments the import
    wrote at (its chunks' clocks, one store's after the other's) as "now"."""
    db.session.expire_all()
    keys = _customer_keys(store_id)
    out: dict[str, list[tuple]] = {}
    for name, model in (
        ("ledger", PointsLedger),
        ("accounts", LoyaltyAccount),
        ("writebacks", LoyaltyWriteback),
        ("tiers", LoyaltyTierChange),
    ):
        columns = [c for c in model.__table__.columns if c.name not in ("id", "store_id", "updated_at")]
        found = []
        for row in db.session.execute(select(*columns).where(model.store_id == store_id)):
            values = dict(row._mapping)
            values["customer_id"] = keys.get(values["customer_id"])
            if str(values.get("source_key")).startswith("tier:"):  # tier:<tier>:<our customer id>:<period>
                tier, _, period = values["source_key"].split(":")[1:]
                values["source_key"] = (tier, values["customer_id"], period)
            for key, value in values.items():
                if isinstance(value, datetime) and value >= since:
                    values[key] = "now"
            found.append(tuple(sorted((k, repr(v)) for k, v in values.items())))
        out[name] = sorted(found)
    return out


def _import(app, monkeypatch, domain: str, settings: dict[str, Any], *, twin: bool) -> int:
    store = db.session.scalar(select(Store).where(Store.domain == domain))
    update_settings(db.session, store, settings)
    set_up(db.session, store, earn_points=True, tiers_from_past=bool(settings.get("tiers")), enqueue_job=False)
    db.session.commit()
    with monkeypatch.context() as patch:
        if twin:
            crash_inside_the_second_chunk(patch, store.id, history_apply, "orders", CHUNK)
        else:
            patch.setattr(history_bulk_past, "PAST_ORDERS_HOOKS", {})
        assert run(db.session, store.id) == "done"
    return store.id


@pytest.mark.parametrize("settings", [PLAIN, TIERED], ids=["no tiers", "tiers"])
def test_the_set_based_points_are_the_followers(app, ctx, client, monkeypatch, postgres, settings):
    monkeypatch.setitem(app.config, "HISTORY_POLL_SECONDS", 0.01)
    monkeypatch.setitem(app.config, "HISTORY_BULK_CHUNK", CHUNK)
    taken: list[int] = []
    real = imported_orders.orders_imported

    def counting(session, store, pids, now):
        done = real(session, store, pids, now)
        taken.append(len(done))
        return done

    monkeypatch.setitem(history_bulk_past.PAST_ORDERS_HOOKS, "loyalty", counting)
    since = utcnow()
    with shopify_standin(app, monkeypatch) as server:
        stores = {SHOP: add_store(currency="EUR").id, OTHER: add_store(domain=OTHER, currency="EUR").id}
        updated = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for domain in stores:
            server._access["shpat_test"] = (domain, float("inf"))
            bulk = server.state(domain).bulk
            bulk.customers = [gql_customer(n) for n in range(CUSTOMERS)]
            bulk.orders = [_node(n) for n in range(ORDERS)]
            for n in EARLY:  # present when the webhook came (the store had no import yet): its points are not past
                body = dumps(rest_order({**bulk.orders[n], "updatedAt": updated}))
                client.post(
                    "/webhooks/shopify", data=body, headers=shopify_headers("orders/updated", body, shop=domain)
                )
        process_all(app)
        server._access["shpat_test"] = (SHOP, float("inf"))
        by_twin = _import(app, monkeypatch, SHOP, settings, twin=True)
        server._access["shpat_test"] = (OTHER, float("inf"))
        by_follower = _import(app, monkeypatch, OTHER, settings, twin=False)
    assert sum(taken) > ORDERS // 2, taken  # most past orders took the statements (the early ones did not)
    twin, follower = _state(by_twin, since), _state(by_follower, since)
    for name in twin:
        only_twin = sorted(set(twin[name]) - set(follower[name]))[:2]
        only_follower = sorted(set(follower[name]) - set(twin[name]))[:2]
        differ = [(dict(a), dict(b)) for a, b in zip(only_twin, only_follower, strict=False)]
        assert [(name, {k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)}) for a, b in differ] == []
        assert (name, only_twin) == (name, only_follower)
        assert twin[name] == follower[name], name
    rules = [dict(row)["rule"] for row in twin["ledger"]]
    assert sum("'imported': '1'" in r for r in rules) > ORDERS // 2 and sum("'refund':" in r for r in rules) > 50
    assert len(twin["accounts"]) > CUSTOMERS and any(dict(a)["held"] != "0" for a in twin["accounts"])  # a guest
    if settings.get("tiers"):
        assert {dict(t)["to_tier"] for t in twin["tiers"]} == {"'silver'", "'gold'"}
        assert any("'multiplier': '1.5'" in r for r in rules)
    for store_id in (by_twin, by_follower):
        assert points_days_rows(store_id) == ledger_recount(store_id) != {}
