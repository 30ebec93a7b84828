"""The late-parcel scan visits only the stores where a parcel may be late: with a thousand stores, a lock and a commit
for every store every tick kept the scheduler busy (bench/README.md, "Results at 1,000 stores"), as the delivery
updates' sending step did (test_send_visits.py). A store with a late parcel still gets its recovery case, and a
store's imported history never holds back its newer late parcels."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.journeys import late
from app.records.models import HistoryImport
from app.recovery import RecoveryCase
from app.stores.settings import update_store_settings
from tests.helpers import add_store, dumps, process_all, shopify_headers, shopify_order
from tests.journeys.conftest import carrier_event, fulfillment

SECOND = "second.myshopify.com"
PAST_DUE = "2026-11-03T12:00:00Z"  # before the wall clock the scan reads (no MAIL_CLOCK here)
NOT_YET = "2099-01-01T12:00:00Z"


def _recovery_on(store) -> None:
    store.contact_email = "owner@shop.example"
    update_store_settings(db.session, store, {"recovery": {"enabled": True}})
    db.session.commit()


def _post(client, shop: str, topic: str, payload: dict) -> None:
    body = dumps(payload)
    response = client.post("/webhooks/shopify", data=body, headers=shopify_headers(topic, body, shop=shop))
    assert response.status_code == 200, response.data


def _parcel(client, shop: str, order_id: int, eta: str, created_at: str = "2026-11-01T10:00:00-05:00") -> None:
    _post(client, shop, "orders/create", shopify_order(order_id, customer_id=order_id + 1, created_at=created_at))
    _post(client, shop, "fulfillments/create", fulfillment(order_id, order_id * 10))
    event = carrier_event(order_id, order_id * 10, order_id * 10 + 1, "in_transit", estimated_delivery_at=eta)
    _post(client, shop, "fulfillment_events/create", event)


def _visits(monkeypatch) -> list[int]:
    visited: list[int] = []
    scan_store = late.scan_store
    monkeypatch.setattr(
        late, "scan_store", lambda session, store, now: visited.append(store.id) or scan_store(session, store, now)
    )
    return visited


def _cases() -> list[tuple[int, str, str]]:
    rows = db.session.scalars(select(RecoveryCase).order_by(RecoveryCase.id))
    return [(c.store_id, c.order_platform_id, c.reason) for c in rows]


def test_only_a_store_with_a_late_parcel_is_visited_and_it_gets_its_recovery(app, client, ctx, monkeypatch):
    late_store, quiet_store = add_store("shopify"), add_store("shopify", domain=SECOND)
    _recovery_on(late_store)
    _recovery_on(quiet_store)
    late_id, quiet_id = late_store.id, quiet_store.id
    _parcel(client, "test-shop.myshopify.com", 8100, PAST_DUE)
    _parcel(client, SECOND, 8200, NOT_YET)  # on its way, promised later: nothing to do
    process_all(app)
    visited = _visits(monkeypatch)

    assert late.scan_late_parcels(app) == {"late_parcels": 1, "recovery_cases": 1}
    assert visited == [late_id]
    assert _cases() == [(late_id, "8100", "late_parcel")]
    assert late.scan_late_parcels(app) == {"late_parcels": 0, "recovery_cases": 0}
    assert visited == [late_id]  # handled: the next tick visits no store at all
    assert quiet_id not in visited


def test_imported_history_neither_keeps_a_store_visited_nor_holds_back_its_new_late_parcels(
    app, client, ctx, monkeypatch
):
    """Past orders' parcels (placed before the history cut-off) are never handled, so they stay unhandled: left
    out after the LIMIT, a store whose first BATCH late parcels were past never reached its newer ones."""
    store = add_store("shopify")
    _recovery_on(store)
    store_id = store.id
    _parcel(client, "test-shop.myshopify.com", 8300, PAST_DUE, created_at="2026-10-01T10:00:00Z")  # imported
    process_all(app)
    db.session.add(HistoryImport(store_id=store_id, cutoff_at=datetime(2026, 10, 15, tzinfo=UTC), status="done"))
    db.session.commit()
    visited = _visits(monkeypatch)
    monkeypatch.setattr(late, "BATCH", 1)

    assert late.scan_late_parcels(app) == {"late_parcels": 0, "recovery_cases": 0}
    assert visited == []  # only a past order's parcel: nothing to visit the store for

    _parcel(client, "test-shop.myshopify.com", 8400, PAST_DUE)  # a new order, after the cut-off
    process_all(app)
    assert late.scan_late_parcels(app) == {"late_parcels": 1, "recovery_cases": 1}
    assert visited == [store_id]
    assert _cases() == [(store_id, "8400", "late_parcel")]
