"""Builders and senders shared by the tests (the gen_* of CTFd, the factories of redash)."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from connectors.base import base64_hmac_sha256

FIXTURES = Path(__file__).parent / "fixtures"
SHOPIFY_SECRET = b"test-shopify-secret"
WOO_SECRET = "woo-webhook-secret"
SHOP = "test-shop.myshopify.com"
WOO_SITE = "https://woo.example.com/"


def fixture_bytes(platform: str, name: str) -> bytes:
    return (FIXTURES / platform / f"{name}.json").read_bytes()


def fixture_json(platform: str, name: str) -> dict[str, Any]:
    return json.loads(fixture_bytes(platform, name))


def add_store(platform: str = "shopify", domain: str | None = None, **kwargs: Any):
    """Register a store through the service, as the CLI does. Needs an app context."""
    from app.extensions import db
    from app.security import secret_box
    from app.stores.service import add_store as add

    if platform == "shopify":
        credentials = {"access_token": "shpat_test"}
    else:
        credentials = {"consumer_key": "ck_test", "consumer_secret": "cs_test", "webhook_secret": WOO_SECRET}
    store = add(
        db.session,
        secret_box(),
        platform,
        domain or (SHOP if platform == "shopify" else WOO_SITE),
        credentials,
        **kwargs,
    )
    db.session.commit()
    return store


def shopify_headers(
    topic: str, body: bytes, *, event_id: str | None = None, shop: str = SHOP, secret: bytes = SHOPIFY_SECRET
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Event-Id": event_id or uuid.uuid4().hex,
        "X-Shopify-Hmac-Sha256": base64_hmac_sha256(secret, body),
    }


def woo_headers(topic: str, body: bytes, *, source: str = WOO_SITE, secret: str = WOO_SECRET) -> dict[str, str]:
    resource, event = topic.split(".")
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Source": source,
        "X-WC-Webhook-ID": "7",
        "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
        "X-WC-Webhook-Signature": base64_hmac_sha256(secret.encode(), body),
    }


def dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def shopify_order(
    order_id: int = 5001,
    *,
    email: str = "ann@example.com",
    customer_id: int | None = 7001,
    total: str = "100.00",
    updated_at: str = "2026-11-01T10:00:00-05:00",
    financial_status: str = "paid",
    **extra: Any,
) -> dict[str, Any]:
    """A Shopify order payload derived from the documented example, with the fields tests vary."""
    payload = fixture_json("shopify", "orders_create")
    payload.update(
        id=order_id,
        email=email,
        total_price=total,
        subtotal_price=total,
        created_at="2026-11-01T10:00:00-05:00",
        updated_at=updated_at,
        processed_at="2026-11-01T10:00:00-05:00",
        financial_status=financial_status,
        cancelled_at=None,
        cancel_reason=None,
        refunds=[],
        fulfillments=[],
        name=f"#{order_id}",
    )
    if customer_id is None:
        payload["customer"] = None
    else:
        payload["customer"] = {**payload["customer"], "id": customer_id, "email": email, "updated_at": None}
    payload.update(extra)
    return payload


def process_all(app, *, fallback: bool = False) -> dict[str, int]:
    """Drain the inbox in this process (the same job an rq worker runs).

    A batch whose first pass fails is redone more carefully and the results are the same, only slower, so a
    bug in the batch path would hide behind the fallback. Unless the test expects a delivery to fail
    (fallback=True), a fallback fails the test."""
    from app.inbox.tasks import process_inbox

    retries: list[logging.LogRecord] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == "inbox.batch_retry":
                retries.append(record)

    handler = Catch(logging.INFO)
    batch_log = logging.getLogger("app.inbox.batch")
    level = batch_log.level
    batch_log.addHandler(handler)
    batch_log.setLevel(logging.INFO)
    try:
        with app.app_context():
            counts = process_inbox()
    finally:
        batch_log.removeHandler(handler)
        batch_log.setLevel(level)
    if retries and not fallback:
        raise AssertionError(f"the batch fell back to its careful pass: {[r.__dict__.get('error') for r in retries]}")
    return counts


def drain_counting_commits(app) -> tuple[dict[str, int], int]:
    """Drain the inbox (process_all: a fallback to the careful passes fails the test) and count the drain's own
    commits: its claims and its transactions.

    Only the commits of this thread count. While a batch runs, the lease's heartbeat renews its rows from a
    thread and connection of its own every lease / 3 (platform/leases.kept_leased: 5 s in the tests), and each
    renewal commits on the same engine: a drain slowed past a beat (a loaded machine) would count one more, a
    number set by the clock, not by how the claim is cut into transactions."""
    from sqlalchemy import event

    from app.extensions import db

    drainer = threading.get_ident()
    commits: list[int] = []

    def listener(_conn: Any) -> None:
        if threading.get_ident() == drainer:
            commits.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "commit", listener)
    try:
        return process_all(app), len(commits)
    finally:
        event.remove(engine, "commit", listener)


def wait_until(predicate: Callable[[], Any], timeout: float, every: float = 0.02) -> bool:
    """Whether `predicate` became true within `timeout` seconds: a test waits for what a thread or a process does,
    not for a fixed time it is assumed to take (a loaded machine takes longer)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


def reset_state(app) -> None:
    """Empty every table and the Redis database (between tests, or between two runs in one test)."""
    from sqlalchemy import text

    from app.extensions import db
    from app.platform.queue import get_redis
    from app.storefront import local_state
    from app.stores import cache as store_cache

    with app.app_context():
        tables = list(reversed(db.metadata.sorted_tables))
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(table.delete())
        get_redis().flushdb()
        local_state.forget(app)  # the counts and copies of the process, synced with the Redis just emptied
        app.extensions["redis_down_until"] = 0.0
        db.session.remove()
    store_cache.forget_all()


@contextmanager
def shopify_standin(app, monkeypatch, **options: Any) -> Iterator[Any]:
    """A stand-in Shopify the app's Admin API calls reach, accepting the token add_store() stores for SHOP."""
    from tests.standins.shopify import StandInServer, StandInShopify, admin_schema

    admin_schema()  # loaded before the clock starts mattering (about a second, once)
    with StandInServer(StandInShopify(api_key="key", api_secret="secret", **options)) as server:
        server._access["shpat_test"] = (SHOP, float("inf"))
        monkeypatch.setitem(app.config, "SHOPIFY_ADMIN_ORIGIN", server.origin())
        yield server


def add_woo_store_at(site) -> Any:
    """add_store("woocommerce") whose REST API is the stand-in `site` (as the wc-auth connect records it)."""
    from app.extensions import db
    from app.stores.models import WooStoreState

    store = add_store("woocommerce")
    db.session.add(WooStoreState(store_id=store.id, api_url=site.url, webhooks={}))
    db.session.commit()
    return store


@contextmanager
def woo_standin(app, monkeypatch, *, timeout: float) -> Iterator[Any]:
    """A stand-in WooCommerce site that knows add_store()'s key pair; our REST calls time out after `timeout`."""
    from tests.standins.woocommerce import WooStandin

    site = WooStandin().start()
    site.keys["ck_test"] = {"secret": "cs_test", "permissions": "read_write", "key_id": 1}
    monkeypatch.setitem(app.config, "WOO_API_TIMEOUT_SECONDS", timeout)
    try:
        yield site
    finally:
        site.stop()


@contextmanager
def without_door(app, door_type: type) -> Iterator[None]:
    """The app's WSGI chain with its `door_type` middleware (a WSGI door) bypassed, to compare with the views."""
    outer, door = app, app.wsgi_app
    while not isinstance(door, door_type):  # AttributeError if the chain has no such door: the test is wrong
        outer, door = door, door.wsgi_app
    outer.wsgi_app = door.wsgi_app
    try:
        yield
    finally:
        outer.wsgi_app = door
