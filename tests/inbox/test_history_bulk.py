"""The bulk history path (inbox/history_bulk.py, PostgreSQL) ends with the records the batch path leaves, also
when its worker dies inside a chunk (after the set-based statements, before the commit) and the import resumes.

The same Shopify history (guests known and new, accounts held and new, newer details, a guest signing up, a second
currency, cancelled and discounted orders that the bulk path hands to
the batch path, parcels still in transit, orders a webhook updated before the import) is imported into two
stores, one by each path, with points for the past; every record is compared: orders, customers, refunds,
fulfilments and ledger rows, with the customers named by their platform id or e-mail rather than our ids.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.inbox import history_apply, history_bulk
from app.inbox.history_import import run
from app.inbox.history_import import start as set_up
from app.loyalty.models import PointsLedger
from app.platform.types import utcnow
from app.records.history import history_import
from app.records.models import Customer, Fulfillment, Order, OrderDay, OrderRefund
from app.stores.models import Store
from tests.helpers import SHOP, add_store, dumps, process_all, shopify_headers, shopify_standin
from tests.inbox.history import PAST, crash_inside_the_second_chunk, gql_customer, gql_order, rest_order, stamp
from tests.loyalty.conftest import ledger_recount, points_days_rows

CUSTOMERS, ORDERS = 30, 900
OTHER = "other-shop.myshopify.com"


@pytest.fixture
def postgres(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the bulk path is PostgreSQL's (SQLite keeps the batch path)")


def _node(n: int) -> dict[str, Any]:
    node = gql_order(n, CUSTOMERS)
    if n % 7 == 0:
        node["customer"] = None  # a guest order, known by its e-mail
    if n % 11 == 0:
        node["currencyCode"] = "USD"
        node["totalPriceSet"] = node["subtotalPriceSet"] = {"shopMoney": {"amount": "30.00", "currencyCode": "USD"}}
    if n % 13 == 0:
        node["cancelledAt"] = node["updatedAt"]  # to the batch path: a cancellation may touch a redemption
    if n % 17 == 0:
        node["discountCodes"] = ["SAVE10"]
    if n % 5 == 0:
        node["fulfillments"][0]["displayStatus"] = "IN_TRANSIT"
    if n % 3 == 1:  # the staged address is spelled as the batch path's JSON column spells it
        node["shippingAddress"] = {"address1": f"{n} Main St", "zip": "00-950", "countryCodeV2": "PL", "phone": None}
    # The customers the bulk path leaves to resolve_customer (history_held.py), each met again later in the chunk:
    if n % 19 == 0:  # a guest the store does not know yet: a new guest record, then the same guest again
        node["customer"], node["email"] = None, f"walk-in{n % 3}@example.com"
    if n % 115 == 23 and node["customer"]:  # newer details on the order than the customers' phase wrote
        node["customer"] = {**node["customer"], "firstName": f"Renamed{n}", "updatedAt": stamp(PAST + timedelta(n))}
    if n % 31 == 0:  # a guest whose e-mail signs up below (the guest record becomes the account)
        node["customer"], node["email"] = None, f"new{n % 4}@example.com"
    if n % 29 == 0 and node["customer"]:  # an account the customers' phase did not bring
        address = {"emailAddress": f"new{n % 4}@example.com", "marketingState": "SUBSCRIBED"}
        node["email"] = address["emailAddress"]
        node["customer"] = {**node["customer"], "id": f"gid://shopify/Customer/{90000 + n % 4}"}
        node["customer"]["defaultEmailAddress"] = address
    return node


def _history(server, domain: str) -> list[dict[str, Any]]:
    bulk = server.state(domain).bulk
    bulk.customers = [gql_customer(n) for n in range(CUSTOMERS)]
    bulk.orders = [_node(n) for n in range(ORDERS)]
    return bulk.orders


def _customer_keys(store_id: int) -> dict[int, tuple]:
    rows = db.session.execute(
        select(Customer.id, Customer.platform_id, Customer.email_key).where(Customer.store_id == store_id)
    )
    return {row.id: (row.platform_id, row.email_key) for row in rows}


def records(store_id: int) -> dict[str, list[tuple]]:
    """Every record of the store, without our ids and timestamps of writing, customers by their platform keys."""
    db.session.expire_all()
    keys = _customer_keys(store_id)
    out: dict[str, list[tuple]] = {}
    for name, model in (
        ("customers", Customer),
        ("orders", Order),
        ("refunds", OrderRefund),
        ("fulfillments", Fulfillment),
        ("ledger", PointsLedger),
    ):
        columns = [c for c in model.__table__.columns if c.name not in ("id", "store_id", "created_at", "updated_at")]
        found = []
        for row in db.session.execute(select(*columns).where(model.store_id == store_id)):
            values = dict(row._mapping)
            if name == "ledger" and values["order_platform_id"] is None:
                values.pop("available_at")  # a signup reward: available when written, in either store
            if "customer_id" in values:
                values["customer_id"] = keys.get(values["customer_id"])
            found.append(tuple(sorted((k, repr(v)) for k, v in values.items())))
        out[name] = sorted(found)
    return out


def _webhook_mid_import(app, client, domain: str, order: dict[str, Any], when: str) -> Callable[[Any], None]:
    """After the orders' first chunk: a webhook for an imported order (newer than the import's snapshot, a new
    total) goes the normal way; its customer's totals are then recomputed from the rows, imported orders included."""
    sent: list[int] = []

    def on_progress(row: Any) -> None:
        if sent or row.phase != "orders" or not row.orders_done:
            return
        sent.append(1)
        newer = {**order, "updatedAt": when}
        newer["totalPriceSet"] = newer["subtotalPriceSet"] = {"shopMoney": {"amount": "77.00", "currencyCode": "EUR"}}
        body = dumps(rest_order(newer))
        client.post("/webhooks/shopify", data=body, headers=shopify_headers("orders/updated", body, shop=domain))
        process_all(app)
        pid, store_id = order["customer"]["id"].rsplit("/", 1)[1], row.store_id
        customer = db.session.scalar(select(Customer).where(Customer.store_id == store_id, Customer.platform_id == pid))
        held = db.session.scalars(select(Order).where(Order.store_id == store_id, Order.customer_id == customer.id))
        assert customer.orders_count == len(held.all()) > 1  # exact at once, not at the phase's end

    return on_progress


def _crash_before_the_end_step(monkeypatch, store_id: int) -> None:
    """The worker dies after the orders' last chunk, before the deferred work (history_bulk_settle.settle_phase):
    the import stays `running` with its deferred work still marked, and the next run does it."""
    from app.inbox import history_import as runner
    from app.inbox.history_bulk_settle import PENDING

    real = runner.settle_phase
    monkeypatch.setattr(runner, "settle_phase", lambda *args: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        run(db.session, store_id)
    db.session.rollback()
    row = history_import(db.session, store_id)
    assert (row.status, row.orders_done, row.cursor[PENDING]) == ("running", ORDERS, "pending")
    monkeypatch.setattr(runner, "settle_phase", real)


def _import(app, server, monkeypatch, domain: str, *, bulk: bool, on_progress: Any = None) -> int:
    server._access["shpat_test"] = (domain, float("inf"))
    monkeypatch.setitem(app.config, "HISTORY_BULK", bulk)
    found = db.session.scalar(select(Store).where(Store.domain == domain))
    set_up(db.session, found, earn_points=True, tiers_from_past=True, enqueue_job=False)
    db.session.commit()
    if bulk:
        crash_inside_the_second_chunk(monkeypatch, found.id, history_apply, "orders", 400)
        if on_progress is not None:  # between the chunks, while the first one's customer-level work waits
            on_progress(history_import(db.session, found.id))
        _crash_before_the_end_step(monkeypatch, found.id)
    assert run(db.session, found.id, on_progress) == "done"
    return found.id


def days(store_id: int) -> list[tuple]:
    """The Overview's daily rollup of the store (records/order_days.py), without the store's id."""
    db.session.expire_all()
    columns = [c for c in OrderDay.__table__.columns if c.name not in ("id", "store_id")]
    return sorted(tuple(row) for row in db.session.execute(select(*columns).where(OrderDay.store_id == store_id)))


def test_the_bulk_path_ends_with_the_batch_paths_records(app, ctx, client, monkeypatch, postgres):
    monkeypatch.setitem(app.config, "HISTORY_POLL_SECONDS", 0.01)
    monkeypatch.setitem(app.config, "HISTORY_BULK_CHUNK", 400)
    written: list[int] = []
    real_write = history_bulk._write
    monkeypatch.setattr(
        history_bulk, "_write", lambda s, st, bulk, now: (written.append(len(bulk)), real_write(s, st, bulk, now))
    )
    resolved: list[int] = []  # orders whose customer the set-based step left to resolve_customer
    real_resolve = history_bulk.resolve_customer
    monkeypatch.setattr(history_bulk, "resolve_customer", lambda *a: (resolved.append(1), real_resolve(*a))[1])
    with shopify_standin(app, monkeypatch) as server:
        stores = {SHOP: add_store(currency="EUR").id, OTHER: add_store(domain=OTHER, currency="EUR").id}
        # Order 3 updated by a webhook before the import (its older bulk snapshot must not win), in both stores.
        updated = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for domain in stores:
            orders = _history(server, domain)
            newer = {**orders[3], "updatedAt": updated}
            body = dumps(rest_order(newer))
            client.post("/webhooks/shopify", data=body, headers=shopify_headers("orders/updated", body, shop=domain))
        process_all(app)
        order, updated = orders[5], stamp(utcnow() - timedelta(hours=1))  # the same order and time, each store
        bulk_id = _import(
            app,
            server,
            monkeypatch,
            SHOP,
            bulk=True,
            on_progress=_webhook_mid_import(app, client, SHOP, order, updated),
        )
        assert sum(written) > ORDERS * 3 // 4  # most orders took the set-based statements
        assert 0 < len(resolved) < sum(written) // 3, (len(resolved), sum(written))  # most customers set-based
        done = len(written)
        batch_id = _import(
            app,
            server,
            monkeypatch,
            OTHER,
            bulk=False,
            on_progress=_webhook_mid_import(app, client, OTHER, order, updated),
        )
        assert len(written) == done  # the other store took the batch path only
    by_bulk, by_batch = records(bulk_id), records(batch_id)
    for name in by_bulk:
        only_bulk = sorted(set(by_bulk[name]) - set(by_batch[name]))[:2]
        only_batch = sorted(set(by_batch[name]) - set(by_bulk[name]))[:2]
        differ = [(dict(a), dict(b)) for a, b in zip(only_bulk, only_batch, strict=False)]
        assert [(name, {k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)}) for a, b in differ] == []
        assert (name, only_bulk) == (name, only_batch)
        assert by_bulk[name] == by_batch[name], name
    assert len(by_bulk["orders"]) == ORDERS and len(by_bulk["ledger"]) > ORDERS
    from app.records import order_days

    assert days(bulk_id) == days(batch_id) != []  # the Overview's rollup, and (records) the orders' chains

    order_days.rebuild(db.session, bulk_id)  # the rule, from scratch: nothing to correct
    assert (records(bulk_id)["orders"], days(bulk_id)) == (by_bulk["orders"], days(batch_id))
    for store_id in (bulk_id, batch_id):  # the Overview's points rollup followed the import's ledger rows, both paths
        assert points_days_rows(store_id) == ledger_recount(store_id) != {}


def test_a_failing_bulk_chunk_is_applied_by_the_batch_path(app, ctx, monkeypatch, postgres):
    monkeypatch.setitem(app.config, "HISTORY_POLL_SECONDS", 0.01)

    def broken(*args):
        raise RuntimeError("the statement failed")

    monkeypatch.setattr(history_bulk, "_write", broken)
    calls: list[int] = []
    real = history_apply.apply_chunk
    monkeypatch.setattr(history_apply, "apply_chunk", lambda *a: (calls.append(1), real(*a))[1])
    with shopify_standin(app, monkeypatch) as server:
        store = add_store()
        _history(server, store.domain)
        set_up(db.session, store, earn_points=False, tiers_from_past=False, enqueue_job=False)
        db.session.commit()
        assert run(db.session, store.id) == "done"
    assert len(records(store.id)["orders"]) == ORDERS and calls


def test_the_runner_lease_is_renewed_at_every_page_not_only_every_chunk(monkeypatch):
    """A bulk chunk is 50 WooCommerce pages: read under load they outlasted the runner's 120 s Redis lease,
    renewed only after each chunk (bench/history_import, 20,000 orders: LockNotOwnedError). Each page renews it."""
    from app.inbox.history_sources import Reading, woo_chunks
    from connectors import woocommerce_history

    pages = 12
    monkeypatch.setattr(
        woocommerce_history,
        "read_page",
        lambda client, kind, number, session=None: woocommerce_history.Page(
            [{"id": number}] if number <= pages else [], pages * 1, pages
        ),
    )
    monkeypatch.setattr(woocommerce_history, "events", lambda kind, item: [])
    beats: list[int] = []
    reading = Reading({}, lambda c: None, lambda t: None, 0, 0, heartbeat=lambda: beats.append(1), chunk=10)
    client = SimpleNamespace(session=lambda width: SimpleNamespace(close=lambda: None))
    chunks = list(woo_chunks(client, "orders", reading))  # type: ignore[arg-type]
    assert [len(c.documents) for c in chunks] == [10, 2]
    assert len(beats) >= pages


def test_the_standins_bulk_writer_writes_what_graphql_core_executes():
    """tests/standins/shopify_bulk.project (the fast writer the bench needs) against graphql-core's execute of the
    import's own queries over the same objects: the same lines, byte for byte; a query it cannot walk is refused."""
    from graphql import execute, parse

    from connectors.shopify_history import QUERIES
    from tests.standins import shopify_bulk
    from tests.standins.shopify import admin_schema

    held = {"customers": [gql_customer(n) for n in range(CUSTOMERS)], "orders": [_node(n) for n in range(120)]}
    roots = {
        "customers": shopify_bulk._connection(held["customers"]),
        "orders": shopify_bulk._connection([shopify_bulk._held(o) for o in held["orders"]]),
    }
    for query in QUERIES.values():
        document = parse(query)
        executed = execute(admin_schema(), document, root_value=roots)
        assert executed.errors is None
        compiled = shopify_bulk.selection(document)
        assert compiled is not None
        written = b"".join(line + b"\n" for line in shopify_bulk.project(held, compiled))
        assert written == shopify_bulk.jsonl(executed.data)
        assert b'"__parentId"' in written or "customers" in query
    assert shopify_bulk.selection(parse("{ orders { edges { node { ...F } } } } fragment F on Order { id }")) is None
    assert shopify_bulk.selection(parse("{ orders { edges { node { key: id } } } }")) is None
