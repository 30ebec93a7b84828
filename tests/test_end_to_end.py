"""The whole path with real processes: gunicorn serves, an `rq worker` process works,
the CLI reads the record back. Backends as configured for the session (PostgreSQL
and Redis in CI)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.helpers import WOO_SECRET, dumps, fixture_json, shopify_headers, shopify_order, woo_headers

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flask_cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def service(app, backend_env) -> Iterator[tuple[str, dict[str, str]]]:
    """gunicorn + one rq worker, started as they are in production."""
    env = {**os.environ, **backend_env}
    port = _free_port()
    web = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    from app.cli.run import worker_argv

    worker = subprocess.Popen(
        worker_argv(env["REDIS_URL"], app.config["RQ_QUEUE"]),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz?deep=1", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(0.1)
    else:
        web.kill()
        pytest.fail(f"gunicorn did not start: {web.stderr.read().decode()[-2000:]}")
    yield base, env
    for process in (web, worker):
        process.terminate()
    for process in (web, worker):
        process.wait(timeout=15)


def customer_record(env: dict[str, str], store: str, who: str) -> dict | None:
    """`flask customers show` in a process of its own, as a merchant runs it; None until the record exists."""
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "customers", "show", store, who, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return json.loads(result.stdout) if result.returncode == 0 else None


def _wait_for(predicate, timeout: float = 60.0):  # generous: a loaded CI box; returns as soon as true
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_shopify_order_over_http_through_worker_to_cli(service):
    base, env = service
    flask_cli(env, "stores", "add", "shopify", "test-shop.myshopify.com", "--access-token", "shpat_e2e")
    body = dumps(shopify_order(6001, email="erin@example.com", customer_id=9001, total="249.90"))
    headers = shopify_headers("orders/create", body, event_id="e2e-1")
    flipped = bytearray(body)
    flipped[50] ^= 1
    assert requests.post(f"{base}/webhooks/shopify", data=bytes(flipped), headers=headers, timeout=5).status_code == 401
    answers = [requests.post(f"{base}/webhooks/shopify", data=body, headers=headers, timeout=5) for _ in range(5)]
    assert [a.json()["status"] for a in answers] == ["accepted"] + ["duplicate"] * 4

    record = _wait_for(lambda: customer_record(env, "test-shop.myshopify.com", "erin@example.com"))
    assert (record["orders_count"], record["total_spent"], record["currency"]) == (1, "249.90", "USD")
    assert record["platform_id"] == "9001" and record["orders"][0]["paid_at"]


def test_woocommerce_ping_and_guest_order_over_http(service):
    base, env = service
    flask_cli(
        env,
        "stores",
        "add",
        "woocommerce",
        "https://woo.example.com",
        "--consumer-key",
        "ck_1",
        "--consumer-secret",
        "cs_1",
        "--webhook-secret",
        WOO_SECRET,
    )
    ping = requests.post(f"{base}/webhooks/woocommerce", data=b"webhook_id=3", timeout=5)
    assert (ping.status_code, ping.text) == (200, "")
    order = {
        **fixture_json("woocommerce", "order"),
        "status": "completed",
        "date_completed_gmt": "2017-03-23T10:00:00",
        "date_modified_gmt": "2017-03-23T10:00:00",
    }
    body = dumps(order)
    response = requests.post(
        f"{base}/webhooks/woocommerce", data=body, headers=woo_headers("order.updated", body), timeout=5
    )
    assert response.json()["status"] == "accepted"

    record = _wait_for(lambda: customer_record(env, "woo.example.com", "john.doe@example.com"))
    assert record["guest"] is True and record["orders_count"] == 1 and record["total_spent"] == "29.35"
    assert record["orders"][0]["fulfilled_at"] == "2017-03-23T10:00:00+00:00"
