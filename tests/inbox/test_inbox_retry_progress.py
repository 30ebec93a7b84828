"""`flask inbox retry` shows its progress on standard error (lines, when not a terminal) and keeps its JSON answer
on standard output; `--wait` follows the requeued deliveries until the workers are through them."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import update

from app.extensions import db
from app.inbox import cli as inbox_cli
from app.inbox.models import WebhookDelivery
from app.platform import progress
from tests.helpers import add_store, dumps, process_all, shopify_headers, shopify_order


@pytest.fixture
def failed_five(app, client, ctx, monkeypatch):
    """Five deliveries parked as failed; retry requeues them two at a time; a progress line at every update."""
    add_store("shopify")
    for number in range(5):
        body = dumps(shopify_order(8000 + number, email=f"r{number}@example.com", customer_id=88000 + number))
        client.post("/webhooks/shopify", data=body, headers=shopify_headers("orders/create", body))
    db.session.execute(update(WebhookDelivery).values(status="failed", attempts=8, last_error="KeyError"))
    db.session.commit()
    monkeypatch.setattr(inbox_cli, "RETRY_CHUNK", 2)
    monkeypatch.setattr(progress, "EVERY_SECONDS", 0.0)


def test_retry_prints_a_line_per_chunk_with_counts(app, failed_five):
    result = app.test_cli_runner().invoke(args=["inbox", "retry"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"requeued": 5}
    lines = result.stderr.splitlines()
    assert [line.split(";")[0] for line in lines] == [
        "retry: 0/5 requeued (0%)",
        "retry: 2/5 requeued (40%)",
        "retry: 4/5 requeued (80%)",
        "retry: 5/5 requeued (100%)",
        "retry: 5/5 requeued (100%)",  # the closing line, with the time taken
    ]
    assert re.fullmatch(r"retry: 5/5 requeued \(100%\); [\d.]+/s in [\d.]+ s", lines[-1])


def test_retry_wait_follows_processing_to_the_end(app, failed_five, monkeypatch):
    monkeypatch.setattr(inbox_cli.time, "sleep", lambda seconds: process_all(app))  # the worker, between polls
    result = app.test_cli_runner().invoke(args=["inbox", "retry", "--wait"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"requeued": 5, "done": 5}
    following = [line.split(";")[0] for line in result.stderr.splitlines() if line.startswith("processing: ")]
    assert following == [
        "processing: 0/5 processed (0%), failed 0",
        "processing: 0/5 processed (0%), failed 0",  # before the worker ran
        "processing: 5/5 processed (100%), failed 0",
        "processing: 5/5 processed (100%), failed 0",
    ]
