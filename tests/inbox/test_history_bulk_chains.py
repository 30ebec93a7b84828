"""The Overview's chains (records/order_days.py) and the customers' totals the orders' bulk path leaves: a chunk of
present orders links them as it writes them; past chunks leave chains and totals to the end of the phase
(inbox/history_bulk_settle.py), and the result is what the rules recompute from the rows.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.inbox.history_import import run
from app.inbox.history_import import start as set_up
from app.platform.types import utcnow
from app.records.models import Customer, Order
from app.records.order_derived import refresh_customers
from tests.helpers import add_store, shopify_standin
from tests.inbox.history import PAST, gql_customer, gql_order, stamp
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
    Past orders (placed before the cut-off) go in unlinked and are linked once, by one relink of the whole store at
    the end of the phase (inbox/history_bulk_settle.py), not chunk after chunk: every order written once; the
    customers' totals then, too, agreeing with a webhook for an imported customer between chunks."""
    from app.records import order_days

    monkeypatch.setitem(app.config, "HISTORY_POLL_SECONDS", 0.01)
    monkeypatch.setitem(app.config, "HISTORY_BULK_CHUNK", 400)
    rewritten: list[tuple[bool, int]] = []  # (the whole store?, orders whose links the relink changed)
    real_relink = order_days._relink

    def links(store_id: int) -> set[tuple]:
        columns = (Order.id, Order.prev_placed_at, Order.next_placed_at)
        return {tuple(row) for row in db.session.execute(select(*columns).where(Order.store_id == store_id))}

    def counting(session, store_ids, customer_ids):
        (store_id,) = store_ids  # the import's store alone (an inbox group relinks several: inbox/batch_group.py)
        before = links(store_id)
        found = real_relink(session, store_ids, customer_ids)
        rewritten.append((customer_ids is None, len(links(store_id) - before)))
        return found

    monkeypatch.setattr(order_days, "_relink", counting)
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
        (at_end,) = [n for whole, n in rewritten if whole]  # once, at the end: each order written once, but those
        early = sum(n for whole, n in rewritten if not whole)  # of the webhook's customer its relink wrote first
        assert 0 < early <= ORDERS // CUSTOMERS and ORDERS - early <= at_end <= ORDERS, rewritten
    else:
        assert all(not whole for whole, _ in rewritten)
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
