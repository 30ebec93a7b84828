"""Signed Shopify webhooks for the review tests (order, parcel, carrier event).

The SMTP fixtures are in tests/messaging/conftest.py (the root conftest makes them available everywhere)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from tests.dashboard.conftest import dash  # noqa: F401  (the dashboard pages' app fixture)
from tests.helpers import dumps, fixture_json, process_all, shopify_headers, shopify_order

ORDER_TIME = "2027-02-20T10:00:00+00:00"


def iso(value: datetime) -> str:
    return value.isoformat()


def post(app, client, topic: str, payload: dict[str, Any], *, event_id: str | None = None) -> None:
    body = dumps(payload)
    answer = client.post("/webhooks/shopify", data=body, headers=shopify_headers(topic, body, event_id=event_id))
    assert answer.status_code == 200, answer.data
    process_all(app)


def order(order_id: int = 9001, *, locale: str = "pl", updated_at: str = ORDER_TIME, **extra: Any) -> dict[str, Any]:
    payload = shopify_order(order_id, email="ola@example.pl", updated_at=updated_at, **extra)
    payload["customer_locale"] = locale
    payload["customer"] = {**payload["customer"], "first_name": "Ola", "locale": locale}
    items = payload["line_items"]
    items[0].update(product_id=111, title="Kubek")
    items[1].update(product_id=222, title="Talerz")
    return payload


def fulfillment(fid: int, order_id: int, shipped: datetime, *, status: str = "success", **extra: Any) -> dict:
    payload = fixture_json("shopify", "fulfillments_create")
    payload.update(id=fid, order_id=order_id, status=status, created_at=iso(shipped), updated_at=iso(shipped))
    payload.update(extra)
    return payload


def carrier(fid: int, order_id: int, when: datetime, *, status: str = "delivered", event_id: int | None = None) -> dict:
    payload = fixture_json("shopify", "fulfillment_events_create")
    payload.update(id=event_id or fid * 10, fulfillment_id=fid, order_id=order_id, status=status, happened_at=iso(when))
    return payload


def send_due(app) -> None:
    """One scheduler pass for reviews and mail, with the jobs run here (as an rq worker would)."""
    from app.messaging.tasks import schedule_messages
    from app.reviews.tasks import schedule_review_requests
    from tests.messaging.test_messaging import run_jobs

    schedule_review_requests(app)
    run_jobs(app)
    schedule_messages(app)
    run_jobs(app)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def star_links(text: str) -> list[str]:
    return re.findall(r"https?://\S+?/r/(?!help/)[A-Za-z0-9_.\-]+", text)
