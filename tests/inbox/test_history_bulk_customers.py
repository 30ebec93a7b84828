"""The customers' bulk history path (inbox/history_bulk_customers.py, PostgreSQL) ends with the records the batch
path leaves, also with webhooks racing the import and when its worker dies inside a chunk and the import resumes.

The same Shopify customers are imported into two stores, one by each path, after the same webhooks: a guest
who later signed up (the import finds them by e-mail), an account a newer customers/update reached first (the
import's older snapshot only fills blanks), one an older update reached first (the import wins), a guest to
merge and two accounts claiming one e-mail (both left to the batch path), a customer listed twice and one that
does not parse. During the import a newer customers/update arrives for an account already imported and for one
not yet imported. Every record is compared: customers, orders, ledger rows (the signup reward, once per
account), loyalty accounts and the write-back rows (loyalty's set-based hook, loyalty/imported.py, against its
handler run per account on the batch path).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.inbox import history_bulk_customers
from app.inbox.history_import import run
from app.inbox.history_import import start as set_up
from app.loyalty.models import LoyaltyAccount, LoyaltyWriteback, PointsLedger
from app.messaging.models import Message
from app.platform.types import utcnow
from app.records.history import history_import
from app.records.models import Customer
from app.stores.models import Store
from connectors.shopify_history import customer_payload
from tests.helpers import SHOP, add_store, dumps, process_all, shopify_headers, shopify_standin
from tests.inbox.history import PAST, crash_inside_the_second_chunk, gql_customer, gql_order, rest_order, stamp
from tests.inbox.test_history_bulk import records
from tests.loyalty.conftest import ledger_recount, points_days_rows

CUSTOMERS, CHUNK = 60, 25
OTHER = "other-shop.myshopify.com"
NEWER, OLDER = stamp(utcnow() - timedelta(days=1)), stamp(PAST - timedelta(days=30))


@pytest.fixture
def postgres(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the bulk path is PostgreSQL's (SQLite keeps the batch path)")


def _customer(n: int, **changes: Any) -> dict[str, Any]:
    return {**gql_customer(n), **changes}


def _email(address: str) -> dict[str, Any]:
    return {"emailAddress": address, "marketingState": "SUBSCRIBED"}


def _post(app, client, domain: str, topic: str, payload: dict[str, Any]) -> None:
    body = dumps(payload)
    response = client.post("/webhooks/shopify", data=body, headers=shopify_headers(topic, body, shop=domain))
    assert response.status_code == 200


def _guest_order(n: int, email: str) -> dict[str, Any]:
    return {**rest_order({**gql_order(n, CUSTOMERS), "email": email}), "customer": None}


def _before(app, client, domain: str) -> None:
    """The webhooks that reached the store before its import."""
    _post(app, client, domain, "orders/updated", _guest_order(7, "c7@example.com"))  # signs up in the import
    _post(app, client, domain, "customers/update", customer_payload(_customer(10, firstName="Newer", updatedAt=NEWER)))
    older = _customer(11, firstName="Older", updatedAt=OLDER, defaultPhoneNumber={"phoneNumber": "+48601234567"})
    _post(app, client, domain, "customers/update", customer_payload(older))
    _post(app, client, domain, "orders/updated", _guest_order(12, "c12@example.com"))  # a guest to merge ...
    other = _customer(12, defaultEmailAddress=_email("other12@example.com"), updatedAt=OLDER)
    _post(app, client, domain, "customers/update", customer_payload(other))  # ... into account 12
    swapped = _customer(13, defaultEmailAddress=_email("c14@example.com"), updatedAt=OLDER)
    _post(app, client, domain, "customers/update", customer_payload(swapped))  # 14's e-mail held by account 13
    process_all(app)


def _during(app, client, domain: str) -> None:
    """Newer updates while the import runs: one for an account imported, one for an account still to come."""
    for n in (3, CUSTOMERS - 3):
        _post(
            app, client, domain, "customers/update", customer_payload(_customer(n, lastName="Raced", updatedAt=NEWER))
        )
    process_all(app)


def _history(server, domain: str) -> None:
    bulk = server.state(domain).bulk
    bulk.customers = [gql_customer(n) for n in range(CUSTOMERS)]
    bulk.customers[20:20] = [_customer(40, firstName="Twice")]  # named twice in one chunk
    bulk.customers.append({**gql_customer(CUSTOMERS), "id": "gid://shopify/Customer/not-a-number"})
    bulk.orders = [gql_order(n, CUSTOMERS) for n in range(0, CUSTOMERS, 6)]


def _import(app, client, monkeypatch, domain: str, *, bulk: bool) -> int:
    monkeypatch.setitem(app.config, "HISTORY_BULK", bulk)
    store = db.session.scalar(select(Store).where(Store.domain == domain))
    set_up(db.session, store, earn_points=False, tiers_from_past=False, enqueue_job=False)
    db.session.commit()
    real, chunks = history_bulk_customers.apply_chunk, []

    def racing(session, store_id, kind, documents, cursor):
        failed = real(session, store_id, kind, documents, cursor)
        chunks.append(kind)
        if chunks == ["customers"]:
            _during(app, client, domain)
        return failed

    monkeypatch.setattr("app.inbox.history_import.apply_chunk", racing)
    if bulk:
        crash_inside_the_second_chunk(monkeypatch, store.id, history_bulk_customers, "customers", CHUNK)
    assert run(db.session, store.id) == "done"
    monkeypatch.setattr("app.inbox.history_import.apply_chunk", real)
    return store.id


def _accounts(store_id: int) -> list[tuple]:
    """The loyalty accounts' sums, with their signup rows; their times (of the refresh: "now") only as set or not."""
    columns = [c for c in LoyaltyAccount.__table__.columns if c.name not in ("id", "store_id", "customer_id")]
    rows = db.session.execute(
        select(*columns, PointsLedger.source_key)
        .join(PointsLedger, PointsLedger.customer_id == LoyaltyAccount.customer_id, isouter=True)
        .where(LoyaltyAccount.store_id == store_id)
    )
    return sorted(tuple(v is not None if isinstance(v, datetime) else v for v in row) for row in rows)


def _writebacks(store_id: int) -> list[tuple]:
    """The store's copies marked behind (loyalty_writebacks), by the customer's platform id: how many changes each."""
    rows = db.session.execute(
        select(Customer.platform_id, LoyaltyWriteback.generation, LoyaltyWriteback.attempts)
        .join(Customer, Customer.id == LoyaltyWriteback.customer_id)
        .where(LoyaltyWriteback.store_id == store_id, Customer.store_id == store_id)
    )
    return sorted(tuple(row) for row in rows)


def test_the_customers_bulk_path_ends_with_the_batch_paths_records(app, ctx, client, monkeypatch, postgres):
    monkeypatch.setitem(app.config, "HISTORY_POLL_SECONDS", 0.01)
    monkeypatch.setitem(app.config, "HISTORY_BULK_CHUNK", CHUNK)
    monkeypatch.setattr("app.inbox.history_import.CHUNK", CHUNK)  # the batch path's chunks as small: one race
    written: list[int] = []
    real_write = history_bulk_customers._write
    monkeypatch.setattr(
        history_bulk_customers,
        "_write",
        lambda s, st, bulk, now: (written.append(len(bulk)), real_write(s, st, bulk, now)),
    )
    with shopify_standin(app, monkeypatch) as server:
        server._access["shpat_test"] = (SHOP, float("inf"))
        stores = {SHOP: add_store(currency="EUR").id, OTHER: add_store(domain=OTHER, currency="EUR").id}
        for domain in stores:
            _history(server, domain)
            server._access["shpat_test"] = (domain, float("inf"))
            _before(app, client, domain)
        server._access["shpat_test"] = (SHOP, float("inf"))
        bulk_id = _import(app, client, monkeypatch, SHOP, bulk=True)
        assert sum(written) > CUSTOMERS * 3 // 4  # most accounts took the set-based statements
        done = len(written)
        server._access["shpat_test"] = (OTHER, float("inf"))
        batch_id = _import(app, client, monkeypatch, OTHER, bulk=False)
        assert len(written) == done  # the other store took the batch path only
    by_bulk, by_batch = records(bulk_id), records(batch_id)
    for name in by_bulk:
        only_bulk = sorted(set(by_bulk[name]) - set(by_batch[name]))[:2]
        only_batch = sorted(set(by_batch[name]) - set(by_bulk[name]))[:2]
        differ = [(dict(a), dict(b)) for a, b in zip(only_bulk, only_batch, strict=False)]
        assert [(name, {k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)}) for a, b in differ] == []
        assert (name, only_bulk) == (name, only_batch)
    assert _accounts(bulk_id) == _accounts(batch_id)
    assert _writebacks(bulk_id) == _writebacks(batch_id) and len(_writebacks(bulk_id)) == CUSTOMERS
    for store_id in (bulk_id, batch_id):
        row = history_import(db.session, store_id)
        assert (row.status, row.customers_done, row.failed) == ("done", CUSTOMERS + 2, 1)
        signups = db.session.scalars(
            select(PointsLedger.source_key).where(
                PointsLedger.store_id == store_id, PointsLedger.source_key.like("action:signup:%")
            )
        ).all()
        assert len(signups) == len(set(signups)) == CUSTOMERS  # once per account, the merged guest's included
        # the Overview's points rollup counted them, the set-based statement's rows too (loyalty/points_days.mark)
        assert points_days_rows(store_id) == ledger_recount(store_id) != {}
        assert db.session.scalar(select(func.count(Message.id)).where(Message.store_id == store_id)) == 0
    customers = {dict(row)["platform_id"]: dict(row) for row in by_bulk["customers"]}
    assert customers["'7010'"]["first_name"] == "'Newer'" and customers["'7011'"]["first_name"] == "'First11'"
    assert customers["'7011'"]["phone"] == "'+48601234567'"  # the import's blank does not erase
    assert customers["'7003'"]["last_name"] == customers[f"'{7000 + CUSTOMERS - 3}'"]["last_name"] == "'Raced'"
    assert customers["'7007'"]["orders_count"] == "1"  # the order placed as a guest


def test_a_failing_customers_chunk_is_applied_by_the_batch_path(app, ctx, monkeypatch, postgres):
    from app.inbox import history_apply
    from tests.inbox.history import counts

    monkeypatch.setitem(app.config, "HISTORY_POLL_SECONDS", 0.01)

    tried: list[int] = []

    def broken(*args):
        tried.append(1)
        raise RuntimeError("the statement failed")

    monkeypatch.setattr(history_bulk_customers, "_write", broken)
    kinds: list[str] = []
    real = history_apply.apply_chunk
    monkeypatch.setattr(
        history_apply, "apply_chunk", lambda s, i, kind, *a: (kinds.append(kind), real(s, i, kind, *a))[1]
    )
    with shopify_standin(app, monkeypatch) as server:
        store = add_store()
        server.state(store.domain).bulk.customers = [gql_customer(n) for n in range(CUSTOMERS)]
        set_up(db.session, store, earn_points=False, tiers_from_past=False, enqueue_job=False)
        db.session.commit()
        assert run(db.session, store.id) == "done"
    assert counts(store.id)["customers"] == CUSTOMERS and tried and "customers" in kinds


def test_the_bulk_path_names_the_accounts_it_writes_to_the_balance_cache(
    app, ctx, client, monkeypatch, bumps, postgres
):
    """The rows are written behind the ORM's back: the chunk names them (a new account, a guest who signed up),
    so the storefront's copies of their balances are dropped at the commit, and no other copy is."""
    monkeypatch.setitem(app.config, "HISTORY_POLL_SECONDS", 0.01)
    monkeypatch.setitem(app.config, "HISTORY_BULK_CHUNK", CHUNK)
    with shopify_standin(app, monkeypatch) as server:
        server._access["shpat_test"] = (SHOP, float("inf"))
        store_id = add_store(currency="EUR").id
        server.state(SHOP).bulk.customers = [gql_customer(n) for n in range(CUSTOMERS)]
        _post(app, client, SHOP, "orders/updated", _guest_order(7, "c7@example.com"))  # signs up in the import
        process_all(app)
        bumps.clear()
        _import(app, client, monkeypatch, SHOP, bulk=True)
    named = set().union(*(pairs for pairs, _ in bumps))
    assert {(store_id, str(7000 + n)) for n in range(CUSTOMERS)} <= named
    assert not any(everything for _, everything in bumps)
