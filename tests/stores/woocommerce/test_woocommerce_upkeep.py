"""A connected WooCommerce store over time, over real HTTP against the stand-in: webhook creation retries, the
maintenance tick re-enabling webhooks, reconciling missed orders, disconnecting, and the admin client's errors.

The connect flow itself is in tests/stores/woocommerce/test_woocommerce_connect.py.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.inbox.models import WebhookDelivery
from app.platform.types import utcnow
from app.records.models import Customer
from app.stores.models.woocommerce import WooStoreState
from connectors.exceptions import RateLimited, StoreUnavailable
from connectors.woocommerce_admin import AccessDenied, WooAdminClient
from tests.helpers import dumps, process_all, woo_headers
from tests.stores.woocommerce import conftest as shared
from tests.stores.woocommerce.conftest import (
    TOPICS,
    connect,
    credentials,
    delivery_url,
    make_due,
    run_jobs,
    the_store,
    web,
    woo_order,
)

# The shared fixtures, bound by name in this module (where pytest looks for them); an import would read
# as unused to the linter.
site, wctx, woo_app = shared.site, shared.wctx, shared.woo_app


def test_webhook_creation_failing_then_succeeding_on_retry(app, woo_app, site, wctx):
    from app.inbox.woo_upkeep import register_woo_webhooks

    site.fail("POST", "/webhooks", 500, times=1)
    connect(woo_app, site)
    store_id = the_store().id
    with pytest.raises(StoreUnavailable):
        register_woo_webhooks(store_id)
    db.session.rollback()
    assert db.session.get(WooStoreState, store_id).last_error == "StoreUnavailable"
    register_woo_webhooks(store_id)  # RQ's retry
    register_woo_webhooks(store_id)  # and once more for good measure: still idempotent
    ours = site.webhooks_for(delivery_url(woo_app))
    assert sorted(w["topic"] for w in ours) == TOPICS
    db.session.rollback()
    assert db.session.get(WooStoreState, store_id).webhooks_status == "active"

    # Keys revoked at the store: recorded, not retried forever.
    site.keys.clear()
    assert register_woo_webhooks(store_id) == {"status": "error", "error": "AccessDenied"}
    db.session.rollback()
    assert db.session.get(WooStoreState, store_id).webhooks_status == "error"


def test_disabled_webhook_is_re_enabled_by_the_maintenance_tick(app, woo_app, site, wctx):
    from app.inbox.woo_upkeep import tick

    connect(woo_app, site)
    run_jobs(woo_app)
    store_id = the_store().id
    victim, deleted = site.webhooks_for(delivery_url(woo_app))[:2]
    site.disable_webhook(victim["id"])
    del site.webhooks[deleted["id"]]  # the merchant deleted one: upkeep puts it back
    assert tick(woo_app)["enqueued"] == 0  # not due yet
    make_due(store_id)
    assert tick(woo_app) == {"due": 1, "enqueued": 1}
    assert tick(woo_app)["enqueued"] == 0  # claimed: not enqueued twice
    run_jobs(woo_app)
    assert site.webhooks[victim["id"]]["status"] == "active"
    assert sorted(w["topic"] for w in site.webhooks_for(delivery_url(woo_app))) == TOPICS


def test_reconcile_brings_missed_orders_once(app, woo_app, site, wctx):
    from app.inbox.woo_upkeep import tick

    connect(woo_app, site)
    run_jobs(woo_app)
    store = the_store()
    secret = credentials(store)["webhook_secret"]
    delivered = woo_order(501, "seen@example.com")
    missed = [woo_order(1000 + i, f"missed{i}@example.com") for i in range(101)]  # two pages of 100
    site.orders = [delivered, *missed]
    body = dumps(delivered)
    headers = woo_headers("order.updated", body, source=site.url, secret=secret)
    assert web.post(delivery_url(woo_app), data=body, headers=headers, timeout=10).json()["status"] == "accepted"

    make_due(store.id)
    tick(woo_app)
    run_jobs(woo_app)  # upkeep, then the inbox drain it kicked
    process_all(woo_app)
    db.session.rollback()
    inbox = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.store_id == store.id)).all()
    assert len(inbox) == 102 and {d.status for d in inbox} == {"done"}
    assert db.session.scalar(select(Customer).where(Customer.email_key == "missed7@example.com")).orders_count == 1
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 102
    assert ("GET", "/wp-json/wc/v3/orders") in site.requests

    # Again: the overlap re-reads the same orders, and nothing new is stored.
    make_due(store.id)
    tick(woo_app)
    run_jobs(woo_app)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 102
    state = db.session.get(WooStoreState, store.id)
    assert state.reconcile_watermark is not None and state.last_reconciled_at is not None


def test_disconnect_removes_webhooks_and_keys(app, woo_app, site, wctx):
    connect(woo_app, site)
    run_jobs(woo_app)
    store = the_store()
    secret = credentials(store)["webhook_secret"]
    foreign = site.webhooks[max(site.webhooks)] | {}
    site.webhooks[999] = {**foreign, "id": 999, "delivery_url": "https://someone-else.example/hook"}

    result = woo_app.test_cli_runner().invoke(args=["woocommerce", "disconnect", str(store.id)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"status": "uninstalled", "webhooks_deleted": len(TOPICS), "remote_error": None}
    assert site.webhooks_for(delivery_url(woo_app)) == [] and 999 in site.webhooks
    store = the_store()
    assert store.status == "uninstalled" and store.uninstalled_at is not None and store.credentials is None
    body = dumps(woo_order(77, "late@example.com"))
    headers = woo_headers("order.updated", body, source=site.url, secret=secret)
    assert web.post(delivery_url(woo_app), data=body, headers=headers, timeout=10).status_code == 401


def test_admin_client_maps_errors(app, site):
    key, secret = site.add_key()
    client = WooAdminClient(site.url, key, secret, timeout=5)
    site.fail("GET", "/webhooks", 429, times=1, **{"Retry-After": "7"})
    with pytest.raises(RateLimited) as limited:
        client.list_webhooks()
    assert limited.value.retry_after == 7.0
    site.fail("GET", "/orders", 503, times=1)
    with pytest.raises(StoreUnavailable):
        list(client.orders_modified_after(utcnow()))
    assert client.delete_webhook(4242) is False
    with pytest.raises(AccessDenied):
        WooAdminClient(site.url, key, "cs_wrong", timeout=5).list_webhooks()
    with pytest.raises(StoreUnavailable):
        WooAdminClient("http://127.0.0.1:9", key, secret, timeout=2).list_webhooks()
