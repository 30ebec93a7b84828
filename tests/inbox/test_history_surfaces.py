"""The import as the merchant sees and drives it: the admin API, `flask stores import` (its progress), the
bulk_operations/finish webhook and the scheduler resuming a waiting or dead import; tiers from past spend."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.extensions import db
from app.inbox.history_import import resume_stalled, run
from app.inbox.history_import import start as set_up
from app.loyalty.models import LoyaltyAccount
from app.platform.queue import get_queue
from app.platform.types import utcnow
from app.records.history import history_import
from app.records.models import HistoryImport
from tests.helpers import add_store, dumps, process_all, shopify_headers, shopify_standin
from tests.inbox.history import counts, gql_customer, gql_order

GOLD = {"name": "Gold", "threshold": "100", "basis": "amount_spent", "window": "lifetime", "multiplier": "2"}


@pytest.fixture
def shop(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "HISTORY_POLL_SECONDS", 0.01)
    with shopify_standin(app, monkeypatch) as server:
        store = add_store(currency="EUR")
        bulk = server.state(store.domain).bulk
        bulk.customers = [gql_customer(n) for n in range(3)]
        bulk.orders = [gql_order(n, 3) for n in range(30)]
        yield store, server


def _token(app, store) -> dict[str, str]:
    issued = json.loads(app.test_cli_runner().invoke(args=["stores", "admin-token", str(store.id)]).output)
    return {"Authorization": f"Bearer {issued['token']}"}


def test_admin_api_starts_shows_progress_and_fixes_the_choices(app, client, shop):
    store, _ = shop
    auth = _token(app, store)
    assert client.get("/admin/api/v1/import", headers=auth).status_code == 404
    assert client.post("/admin/api/v1/import", json={"earn_points": "yes"}, headers=auth).status_code == 400
    started = client.post("/admin/api/v1/import", json={"earn_points": True}, headers=auth)
    assert started.status_code == 202 and started.json["status"] == "queued" and started.json["earn_points"] is True
    assert [job.func_name for job in get_queue().jobs] == ["app.inbox.history_import.import_job"]
    assert run(db.session, store.id) == "done"
    shown = client.get("/admin/api/v1/import", headers=auth).json
    assert (shown["status"], shown["done"], shown["total"]) == ("done", 33, 33)
    assert shown["orders"] == {"done": 30, "total": 30} and shown["customers"] == {"done": 3, "total": 3}
    refused = client.post("/admin/api/v1/import", json={"earn_points": False}, headers=auth)
    assert refused.status_code == 409 and refused.json["error"] == "choices_fixed"


def test_the_command_shows_progress_and_prints_the_import(app, shop):
    store, _ = shop
    result = app.test_cli_runner().invoke(args=["stores", "import", str(store.id), "--points"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert (printed["status"], printed["done"], printed["total"], printed["earn_points"]) == ("done", 33, 33, True)
    assert "import: 33/33 rows (100%)" in result.stderr
    assert counts(store.id)["ledger"] == 30 + 30 // 4 + 1  # earns and the refunds' reversals


def test_a_waiting_import_goes_on_at_the_finish_webhook(app, client, shop, monkeypatch):
    store, server = shop
    server.state(store.domain).bulk.polls_running = 10**6  # Shopify still working when the job gives up waiting
    monkeypatch.setitem(app.config, "HISTORY_WAIT_SECONDS", 0.05)
    set_up(db.session, store, earn_points=False, tiers_from_past=False, enqueue_job=False)
    db.session.commit()
    assert run(db.session, store.id) == "waiting"
    operation = history_import(db.session, store.id).cursor["customers"]["operation"]
    body = dumps({"admin_graphql_api_id": operation, "status": "completed", "type": "query"})
    client.post("/webhooks/shopify", data=body, headers=shopify_headers("bulk_operations/finish", body))
    process_all(app)
    queued = [job.func_name for job in get_queue().jobs]
    assert queued.count("app.inbox.history_import.import_job") == 1  # beside the webhook's own drain job


def test_the_scheduler_resumes_an_import_whose_worker_died(app, shop):
    store, _ = shop
    set_up(db.session, store, earn_points=False, tiers_from_past=False, enqueue_job=False)
    db.session.commit()
    resume_stalled(app)
    assert get_queue().jobs == []  # just set up: not stalled
    db.session.execute(update(HistoryImport).values(status="running", updated_at=utcnow() - timedelta(minutes=11)))
    db.session.commit()
    resume_stalled(app)
    assert [job.func_name for job in get_queue().jobs] == ["app.inbox.history_import.import_job"]


@pytest.mark.parametrize("tiers_from_past", [True, False])
def test_tiers_from_past_spend_only_when_chosen(shop, tiers_from_past):
    store, _ = shop
    store.settings = {"loyalty": {"tiers": [GOLD]}}
    db.session.commit()
    set_up(db.session, store, earn_points=True, tiers_from_past=tiers_from_past, enqueue_job=False)
    db.session.commit()
    assert run(db.session, store.id) == "done"
    tiers = {a.tier for a in db.session.query(LoyaltyAccount)}
    assert tiers == ({"Gold"} if tiers_from_past else {None})  # each customer spent over 100 in the past


def test_a_long_lived_session_sees_an_import_set_up_elsewhere(app, shop):
    """A worker's session outlives its transactions: the cut-off is read again in each one, else an import set
    up by another process would leave this worker treating past orders as present (review requests)."""
    from sqlalchemy.orm import Session

    from app.records.history import policy

    store, _ = shop
    assert policy(db.session, store.id) is None
    db.session.commit()
    with Session(db.engine) as other:
        set_up(other, other.get(type(store), store.id), earn_points=False, tiers_from_past=False, enqueue_job=False)
        other.commit()
    assert policy(db.session, store.id) is not None
