"""Installing from a WooCommerce store, over real HTTP: our app on a loopback server, a stand-in store,
and the real `woocommerce` client package between them."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select, text, update
from werkzeug.serving import make_server

from app.extensions import db
from app.models import Customer, Store, WebhookDelivery
from app.models.types import utcnow
from app.models.woo_connect import REFUSED, WooConnection, WooStoreState
from app.queue import get_queue, get_redis
from app.security import secret_box
from connectors import get_connector
from connectors.exceptions import RateLimited, StoreUnavailable
from connectors.woocommerce_admin import AccessDenied, WooAdminClient
from tests.helpers import dumps, fixture_json, process_all, woo_headers
from tests.standins_woo import WooStandin

TOPICS = sorted(get_connector("woocommerce").topics)


@pytest.fixture(scope="module")
def woo_app(app):
    """A second app on the same database and Redis, with the blueprint registered, served over HTTP."""
    import threading

    from app import create_app
    from app.config import TestingConfig

    application = create_app(TestingConfig())
    application.config["WOO_ALLOW_PRIVATE_SITES"] = True  # the stand-in is on loopback
    server = make_server("127.0.0.1", 0, application, threaded=True)
    application.config["APP_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield application
    server.shutdown()


@pytest.fixture
def site(app, woo_app):
    standin = WooStandin().start()
    yield standin
    standin.stop()


@pytest.fixture
def wctx(woo_app):
    with woo_app.app_context():
        yield
        db.session.remove()


def app_url(woo_app) -> str:
    return woo_app.config["APP_URL"]


def delivery_url(woo_app) -> str:
    return app_url(woo_app) + "/webhooks/woocommerce"


def connect(woo_app, site: WooStandin) -> requests.Response:
    """The merchant clicks Connect, approves at the store, and lands back on our return page."""
    start = requests.get(f"{app_url(woo_app)}/woocommerce/connect", params={"site": site.url}, allow_redirects=False)
    assert start.status_code == 302, start.text
    assert start.headers["Location"].startswith(site.url + "/wc-auth/v1/authorize?")
    return requests.get(start.headers["Location"], timeout=10)  # follows the store's redirect to return_url


def run_jobs(woo_app) -> None:
    """What an rq worker does, in this process: every queued job (registration, upkeep, inbox drain)."""
    from rq import SimpleWorker

    with woo_app.app_context():
        SimpleWorker([get_queue()], connection=get_redis()).work(burst=True)


def the_store() -> Store:
    db.session.rollback()
    [store] = db.session.scalars(select(Store).where(Store.platform == "woocommerce")).all()
    return store


def credentials(store: Store) -> dict:
    return secret_box().open(store.credentials)


def make_due(store_id: int) -> None:
    db.session.execute(
        update(WooStoreState)
        .where(WooStoreState.store_id == store_id)
        .values(next_maintenance_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


def woo_order(order_id: int, email: str, modified=None) -> dict:
    order = fixture_json("woocommerce", "order")
    stamp = (modified or utcnow()).strftime("%Y-%m-%dT%H:%M:%S")
    order.update(id=order_id, number=str(order_id), date_created_gmt=stamp, date_modified_gmt=stamp)
    order["billing"] = {**order["billing"], "email": email}
    return order


def test_connect_registers_webhooks_once_and_keeps_secrets_sealed(app, woo_app, site, wctx):
    landed = connect(woo_app, site)
    assert landed.status_code == 200 and landed.json() == {"status": "connected"}
    assert landed.url.startswith(app_url(woo_app) + "/woocommerce/return?success=1")
    [(status, posted)] = site.callbacks
    assert status == 200 and posted["key_permissions"] == "read_write"

    store = the_store()
    assert (store.status, store.domain) == ("active", urlsplit(site.url).netloc)
    creds = credentials(store)
    assert creds["consumer_key"] == posted["consumer_key"] and creds["consumer_secret"] == posted["consumer_secret"]
    secret = creds["webhook_secret"]
    assert len(secret) >= 32 and secret.isalnum()
    raw = db.session.execute(text("SELECT credentials FROM stores WHERE id = :i"), {"i": store.id}).scalar()
    for value in (posted["consumer_secret"], posted["consumer_key"], secret):
        assert value.encode() not in bytes(raw)

    run_jobs(woo_app)  # the registration job the callback enqueued
    ours = site.webhooks_for(delivery_url(woo_app))
    assert sorted(w["topic"] for w in ours) == TOPICS
    assert {w["status"] for w in ours} == {"active"} and {w["secret_for_tests"] for w in ours} == {secret}
    state = db.session.get(WooStoreState, store.id)
    assert state.webhooks_status == "active" and set(state.webhooks) == set(TOPICS)
    listed = json.loads(woo_app.test_cli_runner().invoke(args=["stores", "list"]).output)
    assert [(s["platform"], s["installed"], s["webhooks_status"]) for s in listed] == [("woocommerce", True, "active")]
    assert listed[0]["webhook_topics"] == TOPICS

    # A signed delivery from the store is accepted with the new per-store secret.
    body = dumps(woo_order(900, "webhook@example.com"))
    headers = woo_headers("order.updated", body, source=site.url + "/", secret=secret)
    assert requests.post(delivery_url(woo_app), data=body, headers=headers, timeout=10).json() == {"status": "accepted"}

    # Reconnecting: same store, a new key and secret, the same six webhooks updated rather than duplicated.
    assert connect(woo_app, site).json() == {"status": "connected"}
    run_jobs(woo_app)
    store = the_store()
    new_secret = credentials(store)["webhook_secret"]
    assert new_secret != secret and credentials(store)["consumer_key"] == site.callbacks[-1][1]["consumer_key"]
    ours = site.webhooks_for(delivery_url(woo_app))
    assert sorted(w["topic"] for w in ours) == TOPICS
    assert {w["secret_for_tests"] for w in ours} == {new_secret}


def test_retried_callback_answers_200_and_changes_nothing(app, woo_app, site, wctx):
    connect(woo_app, site)
    before = credentials(the_store())
    assert site.repost_callback() == 200
    assert site.repost_callback() == 200
    assert db.session.scalar(select(func.count()).select_from(Store)) == 1
    assert credentials(the_store()) == before


def test_unknown_or_expired_user_id_gets_no_store_and_the_key_is_deleted(app, woo_app, site, wctx):
    # A callback for a user_id we never issued: non-200, so WooCommerce deletes the key it made.
    query = {
        "app_name": "x",
        "scope": "read_write",
        "user_id": secrets.token_urlsafe(32),
        "return_url": app_url(woo_app) + "/woocommerce/return",
        "callback_url": app_url(woo_app) + "/woocommerce/callback",
    }
    answer = requests.get(site.url + "/wc-auth/v1/authorize", params=query, timeout=10)
    assert answer.status_code == 401 and site.callbacks[-1][0] == 404
    assert site.keys == {}
    assert db.session.scalar(select(func.count()).select_from(Store)) == 0

    # A connection that expired before the merchant approved.
    start = requests.get(f"{app_url(woo_app)}/woocommerce/connect", params={"site": site.url}, allow_redirects=False)
    db.session.execute(update(WooConnection).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert requests.get(start.headers["Location"], timeout=10).status_code == 401
    assert site.callbacks[-1][0] == 410 and site.keys == {}
    assert db.session.scalar(select(func.count()).select_from(Store)) == 0

    # Garbage is refused without touching anything.
    assert requests.post(app_url(woo_app) + "/woocommerce/callback", data=b"nope", timeout=10).status_code == 400


def test_read_only_key_is_refused(app, woo_app, site, wctx):
    site.grant_permissions = "read"
    landed = connect(woo_app, site)
    assert landed.status_code == 401 and site.callbacks[-1][0] == 403
    assert site.keys == {}  # deleted by the store because we did not answer 200
    assert db.session.scalar(select(func.count()).select_from(Store)) == 0
    assert db.session.scalar(select(WooConnection.status)) == REFUSED
    # The same approval replayed with a read_write key cannot revive a refused connection.
    body = {**site.callbacks[-1][1], "key_permissions": "read_write"}
    assert requests.post(app_url(woo_app) + "/woocommerce/callback", json=body, timeout=10).status_code == 403


@pytest.mark.parametrize(
    "site_arg",
    ["ftp://shop.example.com", "https://user:pw@shop.example.com", "https://shop.example.com/#x", "", "https://"],
)
def test_connect_validates_the_site(app, woo_app, wctx, site_arg):
    answer = requests.get(f"{app_url(woo_app)}/woocommerce/connect", params={"site": site_arg}, allow_redirects=False)
    assert answer.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(WooConnection)) == 0


def test_connect_refuses_private_sites_outside_tests(app, woo_app, wctx):
    woo_app.config["WOO_ALLOW_PRIVATE_SITES"] = False
    try:
        url = f"{app_url(woo_app)}/woocommerce/connect"
        for private in ("http://127.0.0.1:8080", "http://10.1.2.3", "http://[::1]/shop"):
            assert requests.get(url, params={"site": private}, allow_redirects=False).status_code == 400
    finally:
        woo_app.config["WOO_ALLOW_PRIVATE_SITES"] = True
    assert db.session.scalar(select(func.count()).select_from(WooConnection)) == 0


def test_connect_redirect_carries_the_documented_parameters(app, woo_app, wctx):
    answer = requests.get(
        f"{app_url(woo_app)}/woocommerce/connect",
        params={"site": "https://Shop.Example.com/store/"},
        allow_redirects=False,
    )
    location = urlsplit(answer.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == (
        "https",
        "shop.example.com",
        "/store/wc-auth/v1/authorize",
    )
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["scope"] == "read_write" and query["callback_url"] == app_url(woo_app) + "/woocommerce/callback"
    assert query["return_url"] == app_url(woo_app) + "/woocommerce/return" and len(query["user_id"]) >= 40
    stored = db.session.scalar(select(WooConnection))
    assert stored.user_id_hash != query["user_id"] and query["user_id"] not in stored.user_id_hash


def test_webhook_creation_failing_then_succeeding_on_retry(app, woo_app, site, wctx):
    from app.tasks.woo_maintenance import register_woo_webhooks

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
    from app.tasks.woo_maintenance import tick

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
    from app.tasks.woo_maintenance import tick

    connect(woo_app, site)
    run_jobs(woo_app)
    store = the_store()
    secret = credentials(store)["webhook_secret"]
    delivered = woo_order(501, "seen@example.com")
    missed = [woo_order(1000 + i, f"missed{i}@example.com") for i in range(101)]  # two pages of 100
    site.orders = [delivered, *missed]
    body = dumps(delivered)
    headers = woo_headers("order.updated", body, source=site.url, secret=secret)
    assert requests.post(delivery_url(woo_app), data=body, headers=headers, timeout=10).json()["status"] == "accepted"

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
    assert requests.post(delivery_url(woo_app), data=body, headers=headers, timeout=10).status_code == 401


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
