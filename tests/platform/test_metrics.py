"""GET /metrics: who may read it, and that what it shows follows what happened (in one process: the suite's app).

The multi-process exposition (gunicorn, an rq worker, PROMETHEUS_MULTIPROC_DIR) is tests/test_observability.py's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.extensions import db
from tests.helpers import add_store, dumps, process_all, shopify_headers, shopify_order

ROOT = Path(__file__).resolve().parents[2]


def scrape(client, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.data
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.data.decode())
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def token(app):
    app.config["METRICS_TOKEN"] = "scrape-me"
    yield "scrape-me"
    app.config["METRICS_TOKEN"] = None


def test_a_token_is_required_once_set_and_production_without_one_serves_nothing(app, client, token):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Basic scrape-me"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    app.config["METRICS_TOKEN"] = None
    app.config["APP_ENV"] = "production"
    try:
        assert client.get("/metrics").status_code == 404
    finally:
        app.config["APP_ENV"] = "development"
    assert client.get("/metrics").status_code == 200  # development without a token: open (127.0.0.1)


def test_webhooks_are_counted_by_answer_and_the_inbox_shows_its_backlog(app, client, ctx):
    store = add_store("shopify")
    before = scrape(client)
    body = dumps(shopify_order(7001))
    for _ in range(2):
        client.post("/webhooks/shopify", data=body, headers=shopify_headers("orders/create", body, event_id="m-1"))
    bad = bytearray(body)
    bad[40] ^= 1
    client.post("/webhooks/shopify", data=bytes(bad), headers=shopify_headers("orders/create", body))
    client.post("/webhooks/shopify", data=body, headers=shopify_headers("made/up", body, event_id="m-2"))

    during = scrape(client)
    webhooks = "ppe_webhooks_total"
    for answer, topic, count in [
        ("accepted", "orders/create", 1),
        ("duplicate", "orders/create", 1),
        ("bad_signature", "orders/create", 1),
        ("ignored", "other", 1),  # a topic we do not support never becomes a label value of its own
    ]:
        labels = {"platform": "shopify", "topic": topic, "answer": answer}
        assert value(during, webhooks, **labels) - value(before, webhooks, **labels) == count, answer
    assert value(during, "ppe_inbox_depth", store_id=str(store.id)) == 1
    assert value(during, "ppe_inbox_oldest_unprocessed_age_seconds", store_id=str(store.id)) >= 0

    assert process_all(app) == {"done": 1}
    after = scrape(client)
    processed = "ppe_inbox_deliveries_processed_total"
    assert value(after, processed, outcome="done") - value(before, processed, outcome="done") == 1
    assert ("ppe_inbox_depth", (("store_id", str(store.id)),)) not in after  # nothing waits: no series


def test_inbox_stats_and_the_admin_api_say_how_far_behind_a_store_is(app, client, ctx):
    from app.admin.auth import issue_admin_token

    store, other = add_store("shopify"), add_store("shopify", "other-shop.myshopify.com")
    token = issue_admin_token(store)
    body = dumps(shopify_order(7002))
    client.post("/webhooks/shopify", data=body, headers=shopify_headers("orders/create", body, event_id="s-1"))
    body = dumps(shopify_order(7003))
    client.post(
        "/webhooks/shopify",
        data=body,
        headers=shopify_headers("orders/create", body, event_id="s-2", shop="other-shop.myshopify.com"),
    )
    lag = client.get("/admin/api/v1/inbox", headers={"Authorization": f"Bearer {token}"}).json
    assert lag["store_id"] == store.id and lag["depth"] == 1 and lag["last_processed_at"] is None
    assert lag["oldest_unprocessed_age_seconds"] >= 0

    process_all(app)
    stats = json.loads(app.test_cli_runner().invoke(args=["inbox", "stats"]).output)
    by_store = {entry["store_id"]: entry for entry in stats["stores"]}
    assert set(by_store) == {store.id, other.id}
    for entry in by_store.values():
        assert entry["depth"] == 0 and entry["oldest_unprocessed_age_seconds"] is None
        assert entry["last_processed_at"]
    db.session.rollback()


def test_outbox_depth_and_storefront_requests(app, client, ctx):
    from app.messaging import enqueue_message
    from app.security import secret_box
    from app.stores.storefront_keys import ensure_keys

    store = add_store("woocommerce")
    keys = ensure_keys(db.session, secret_box(), store)
    enqueue_message(
        db.session, store, template="points_expiring", to="a@example.com", locale="en", context={}, dedupe_key="m1"
    )
    db.session.commit()
    before = scrape(client)
    assert value(before, "ppe_outbox_depth", kind="message", store_id=str(store.id)) == 1

    client.get("/api/v1/program", headers={"X-PPE-Store": keys.public_key})  # a Flask view
    client.get("/api/v1/products/9/reviews/summary", headers={"X-PPE-Store": keys.public_key})  # the door
    client.get("/api/v1/products/9/reviews/summary", headers={"X-PPE-Store": "nope"})  # refused at the door
    after = scrape(client)
    for route, status in [
        ("/api/v1/program", "200"),
        ("/api/v1/products/<product_id>/reviews/summary", "200"),
        ("/api/v1/products/<product_id>/reviews/summary", "401"),
    ]:
        name, labels = "ppe_storefront_request_seconds_count", {"route": route, "status": status}
        assert value(after, name, **labels) - value(before, name, **labels) == 1, (route, status)


def test_the_sample_dashboard_names_only_metrics_we_export():
    from app.platform.metrics import exported_names

    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    queries = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    assert queries
    named = {re.sub(r"_(bucket|count|sum|total)$", "", name) for q in queries for name in re.findall(r"ppe_\w+", q)}
    exported = {re.sub(r"_total$", "", name) for name in exported_names()}
    assert named and named - exported == set()
