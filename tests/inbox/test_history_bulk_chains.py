"""The Overview's chains (records/order_days.py) and the customers' totals the orders' bulk path leaves: a chunk of
present orders links them as it writes them; past chunks leave chains and totals to the end of the phase
(inbox/history_bulk_settle.py), and the result is what the rules recompute from the rows.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.inbox.history_import import run
from app.inbox.history_import import start as set_up
from app.platform.types import utcnow
from app.records import order_days
from app.records.models import Customer, Order
from app.records.order_derived import refresh_customers
from tests.helpers import add_store, dumps, process_all, shopify_headers, shopify_standin
from tests.inbox.history import PAST, gql_customer, gql_order, rest_order, stamp
from tests.inbox.test_history_bulk import CUSTOMERS, ORDERS, _webhook_mid_import


@pytest.fixture
def postgres(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the bulk path is PostgreSQL's (SQLite keeps the batch path)")


@pytest.mark.parametrize("past", [False, True], ids=["present", "past"])
def test_the_orders_go_in_with_their_chain_so_the_relink_rewrites_only_neighbours(
    app, ctx, client, monkeypatch, postgres, past
):
    """The Overview's chain (records/order_days) of a bulk chunk's new orders is written with them (history_bulk_sql.
    STAGE_CHAIN): the relink at the commit, which stays the rule, then rewrites only the orders whose link moved
    (each customer's last order of the chunks before), not every order a second time (bench/README.md).
    Past orders (placed before the cut-off) go in unlinked and are linked once, at the end of the phase, a batch of
    customers at a time (inbox/history_bulk_settle.py), not chunk after chunk: every order written once; the
    customers' totals then, too, agreeing with a webhook for an imported customer between chunks."""
    monkeypatch.setitem(app.config, "HISTORY_POLL_SECONDS", 0.01)
    monkeypatch.setitem(app.config, "HISTORY_BULK_CHUNK", 400)
    monkeypatch.setitem(app.config, "HISTORY_SETTLE_BATCH", 7)
    rewritten: list[tuple[bool, int]] = []  # (at the end of the phase?, orders whose links the relink changed)
    real_relink, real_batch = order_days._relink, order_days.relink
    at_the_end: list[bool] = []

    def batch(session, store_id, customer_ids):
        at_the_end.append(True)
        try:
            real_batch(session, store_id, customer_ids)
        finally:
            at_the_end.pop()

    def links(store_id: int) -> set[tuple]:
        columns = (Order.id, Order.prev_placed_at, Order.next_placed_at)
        return {tuple(row) for row in db.session.execute(select(*columns).where(Order.store_id == store_id))}

    def counting(session, store_ids, customer_ids):
        (store_id,) = store_ids  # the import's store alone (an inbox group relinks several: inbox/batch_group.py)
        before = links(store_id)
        found = real_relink(session, store_ids, customer_ids)
        rewritten.append((bool(at_the_end), len(links(store_id) - before)))
        return found

    monkeypatch.setattr(order_days, "_relink", counting)
    monkeypatch.setattr(order_days, "relink", batch)
    with shopify_standin(app, monkeypatch) as server:
        store = add_store(currency="EUR")
        bulk = server.state(store.domain).bulk
        when = PAST if past else utcnow() + timedelta(minutes=1)  # after the cut-off set below: present
        bulk.customers = [gql_customer(n) for n in range(CUSTOMERS)]
        bulk.orders = [gql_order(n, CUSTOMERS, when=when) for n in range(ORDERS)]
        set_up(db.session, store, earn_points=False, tiers_from_past=False, enqueue_job=False)
        db.session.commit()
        webhook = _webhook_mid_import(app, client, store.domain, bulk.orders[5], stamp(utcnow()))  # after chunk 1
        assert run(db.session, store.id, webhook) == "done"
    written = {row[0]: row[1:] for row in links(store.id)}
    assert len(written) == ORDERS and sum(1 for prev, _ in written.values() if prev is not None) == ORDERS - CUSTOMERS
    if past:
        at_end = sum(n for end, n in rewritten if end)  # at the end, in batches: each order written once, but those
        early = sum(n for end, n in rewritten if not end)  # of the webhook's customer its relink wrote first
        assert sum(1 for end, _ in rewritten if end) == -(-CUSTOMERS // 7)
        assert 0 < early <= ORDERS // CUSTOMERS and ORDERS - early <= at_end <= ORDERS, rewritten
    else:
        assert all(not end for end, _ in rewritten)
        assert 0 < sum(n for _, n in rewritten) <= CUSTOMERS * (ORDERS // 400), rewritten  # the neighbours
    order_days.rebuild(db.session, store.id)
    assert {row[0]: row[1:] for row in links(store.id)} == written  # what the rule recomputes from scratch
    held = totals(store.id)
    assert sum(int(n) for n, *_ in held.values()) == ORDERS  # every order counted, at the end of the phase
    refresh_customers(db.session, store, *held)  # the webhooks' rule (records/customers.refresh_totals), per customer
    db.session.commit()
    assert totals(store.id) == held


def totals(store_id: int) -> dict[int, tuple]:
    db.session.expire_all()
    columns = (
        Customer.orders_count, Customer.currency, Customer.total_spent, Customer.total_refunded,
        Customer.spent_by_currency, Customer.first_order_at, Customer.last_order_at,
    )  # fmt: skip
    rows = db.session.execute(select(Customer.id, *columns).where(Customer.store_id == store_id))
    return {row[0]: tuple(repr(v) for v in row[1:]) for row in rows}


def test_the_end_step_lets_webhooks_in_between_its_batches_and_ends_as_the_rules(
    app, ctx, client, monkeypatch, postgres
):
    """The end of the phase (inbox/history_bulk_settle.py) takes the store's lock once per batch of customers, not
    once for every order of the store (~40 s at a million: bench/README.md): the lock is free between batches, and
    webhooks that come in then (an imported order cancelled, for a customer already settled and one not yet) leave
    chains, totals and the daily rollup as the rules recompute them from the rows."""
    from app.inbox import history_bulk_settle
    from app.platform.locks import LOCK_NAMESPACE
    from tests.inbox.test_history_bulk import days

    monkeypatch.setitem(app.config, "HISTORY_POLL_SECONDS", 0.01)
    monkeypatch.setitem(app.config, "HISTORY_BULK_CHUNK", 400)
    monkeypatch.setitem(app.config, "HISTORY_SETTLE_BATCH", 7)
    free: list[bool] = []  # was the store's lock free when the end step asked for it?
    real_lock = history_bulk_settle.locked_store

    def cancel(order: dict) -> None:
        cancelled = {**order, "updatedAt": stamp(utcnow()), "cancelledAt": stamp(utcnow())}
        body = dumps(rest_order(cancelled))
        client.post("/webhooks/shopify", data=body, headers=shopify_headers("orders/updated", body, shop=store.domain))
        process_all(app)

    def lock(session, store_id):
        key = {"ns": LOCK_NAMESPACE, "k": store_id}
        with db.engine.connect() as other:
            got = other.execute(text("SELECT pg_try_advisory_lock(:ns, :k)"), key).scalar()
            other.execute(text("SELECT pg_advisory_unlock(:ns, :k)"), key) if got else None
        free.append(bool(got))
        if len(free) == 3:  # two batches done: customers 0-13 settled (ids in import order), the rest not yet
            cancel(bulk.orders[CUSTOMERS + 1])
            cancel(bulk.orders[2 * CUSTOMERS + CUSTOMERS - 2])
        return real_lock(session, store_id)

    monkeypatch.setattr(history_bulk_settle, "locked_store", lock)
    with shopify_standin(app, monkeypatch) as server:
        store = add_store(currency="EUR")
        bulk = server.state(store.domain).bulk
        bulk.customers = [gql_customer(n) for n in range(CUSTOMERS)]
        bulk.orders = [gql_order(n, CUSTOMERS) for n in range(ORDERS)]
        set_up(db.session, store, earn_points=False, tiers_from_past=False, enqueue_job=False)
        db.session.commit()
        assert run(db.session, store.id) == "done"
    assert len(free) == -(-CUSTOMERS // 7) + 1 and all(free), free  # a transaction per batch, and the last one's
    db.session.expire_all()
    cancelled = db.session.scalars(select(Order.id).where(Order.store_id == store.id, Order.cancelled_at.is_not(None)))
    assert len(cancelled.all()) == 2
    links = select(Order.id, Order.prev_placed_at, Order.next_placed_at).where(Order.store_id == store.id)
    written, rollup, held = set(db.session.execute(links)), days(store.id), totals(store.id)
    order_days.rebuild(db.session, store.id)
    refresh_customers(db.session, store, *held)  # the webhooks' rule (records/customers.refresh_totals)
    db.session.commit()
    assert (set(db.session.execute(links)), days(store.id), totals(store.id)) == (written, rollup, held)


def test_the_end_step_plans_with_statistics_that_know_the_store(app, ctx, client, monkeypatch, postgres):
    """A store imported into a database whose statistics were taken before it had rows: the tables did not double
    (another store of the same size was there), so the import's own rule (history_bulk_sql.STALE_TABLES) never
    analysed them, and the planner took the store for one customer and one order. The end step's statements
    over the store's rows then ran as nested loops re-aggregating the store's orders per customer (minutes at
    100,000 orders: bench/README.md, "The end step's statistics"). The end step reads the planner's estimate of
    the store's customers and orders and analyses the tables when it is far below their count."""
    from sqlalchemy import text

    monkeypatch.setitem(app.config, "HISTORY_POLL_SECONDS", 0.01)
    monkeypatch.setitem(app.config, "HISTORY_BULK_CHUNK", 400)

    def estimate(table: str, store_id: int) -> float:
        plan = db.session.execute(text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {table} WHERE store_id = {store_id}"))
        return float(plan.scalar()[0]["Plan"]["Plan Rows"])

    with shopify_standin(app, monkeypatch) as server:
        stores = [add_store(currency="EUR"), add_store(currency="EUR", domain="other-shop.myshopify.com")]
        for n, store in enumerate(stores):
            server._access["shpat_test"] = (store.domain, float("inf"))  # the one token add_store() stores
            bulk = server.state(store.domain).bulk
            bulk.customers = [gql_customer(k) for k in range(CUSTOMERS)]
            bulk.orders = [gql_order(k, CUSTOMERS, when=PAST) for k in range(ORDERS)]
            set_up(db.session, store, earn_points=False, tiers_from_past=False, enqueue_job=False)
            db.session.commit()
            assert run(db.session, store.id, None) == "done"
            if n == 0:  # the statistics as autovacuum leaves them: taken when only the first store had rows
                db.session.execute(text("ANALYZE customers, orders"))
                db.session.commit()
    second = stores[1].id
    assert estimate("customers", second) >= CUSTOMERS / 2
    assert estimate("orders", second) >= ORDERS / 2
