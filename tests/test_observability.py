"""A demo replay against real processes (gunicorn with two workers, an `rq worker`, the scheduler), then what an
operator sees: /metrics (added up across the processes through PROMETHEUS_MULTIPROC_DIR) counts exactly what the
replay sent and the worker processed, and the worker's and the scheduler's logs have one line per event, none
doubled, every warning with a reason. The stores' APIs do not answer (a closed port), as in the demo that logged
2,549 `catalog.fetch_failed` warnings without a reason: the review e-mails' product fetches fail and say why."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from app.demo.replay import inbox_counts, replay
from app.demo.scenario import build_scenario
from app.extensions import db
from app.stores.models import Store
from tests.helpers import SHOP, SHOPIFY_SECRET, WOO_SECRET, WOO_SITE, add_store

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TOKEN = "scrape-token"
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live(app, ctx, backend_env, tmp_path) -> Iterator[tuple[str, Path]]:
    """gunicorn (2 workers) and one rq worker sharing a metrics folder; the worker's output in a file."""
    from app.cli.run import worker_argv

    add_store("shopify")  # before the processes start: no store cache to wait for
    add_store("woocommerce")
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    env = {**os.environ, **backend_env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    env |= {"METRICS_TOKEN": TOKEN, "LOG_FORMAT": "json", "SCHEDULER_INTERVAL_SECONDS": "0.5"}
    env |= {"SHOPIFY_ADMIN_ORIGIN": f"http://127.0.0.1:{_free_port()}/{{shop}}", "WOO_API_TIMEOUT_SECONDS": "2"}
    port = _free_port()
    web_argv = [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        web = subprocess.Popen(
            [*web_argv, "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        worker = subprocess.Popen(
            worker_argv(env["REDIS_URL"], app.config["RQ_QUEUE"]), cwd=ROOT, env=env, stdout=out, stderr=out
        )
        scheduler = subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", "scheduler"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/healthz?deep=1", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start")
        yield base, log
    finally:
        for process in (web, worker, scheduler):
            process.terminate()
        for process in (web, worker, scheduler):
            process.wait(timeout=30)


def scrape(base: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    answer = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def total(samples, name: str, **labels: str) -> float:
    return sum(v for have, v in samples.get(name, []) if all(have.get(k) == want for k, want in labels.items()))


def test_a_demo_replay_is_counted_exactly_and_logged_once_per_event(app, live):
    base, log = live
    scenario = build_scenario(seed=5, customers=25, orders=60, shopify_shop=SHOP, woo_site=WOO_SITE)
    secrets = {"shopify": SHOPIFY_SECRET, "woocommerce": WOO_SECRET.encode()}
    report = replay(scenario.deliveries, base, secrets, concurrency=4)
    assert report.rejected == 0 and report.accepted > 100 and report.duplicates > 0
    assert _processed(app, timeout=180)
    counts = inbox_counts(app, _store_ids(app))
    assert counts == {"done": report.accepted}

    samples = scrape(base)  # the two gunicorn workers answered the POSTs; either may answer the scrape
    assert total(samples, "ppe_webhooks_total", answer="accepted") == report.accepted
    assert total(samples, "ppe_webhooks_total", answer="duplicate") == report.duplicates
    assert sum(v for _, v in samples["ppe_webhooks_total"]) == report.sent
    by_platform = Counter(d.platform for d in scenario.deliveries)
    assert total(samples, "ppe_webhooks_total", platform="woocommerce") == by_platform["woocommerce"]
    # Written by the worker process, read by a web process.
    assert total(samples, "ppe_inbox_deliveries_processed_total", outcome="done") == report.accepted
    assert total(samples, "ppe_inbox_deliveries_processed_total") == report.accepted
    assert "ppe_inbox_depth" not in samples  # nothing waits

    deadline = time.monotonic() + 90  # the scheduler sends the review requests due; their product fetches fail
    while "catalog.fetch_failed" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]  # one JSON object per line: nothing in another format
    fetches = [e for e in events if e["event"] == "catalog.fetch_failed"]
    assert fetches and all(e["reason"].startswith("StoreUnavailable") and e["store_id"] for e in fetches)
    assert any(e["logger"] == "rq.worker" and "Job OK" in e["event"] for e in events)  # RQ's lines come through ours
    assert any(e["event"] == "inbox.drained" for e in events)
    doubled = [line for line, n in Counter(lines).items() if n > 1]
    assert doubled == []
    rq_lines = Counter(e["event"] for e in events if e["logger"].startswith("rq."))
    assert [event for event, n in rq_lines.items() if n > 1 and "Job OK" in event] == []  # each job's "OK" once
    unexplained = [e for e in events if e["level"] in ("warning", "error", "critical") and not e.get("reason")]
    assert unexplained == []


def _store_ids(app) -> list[int]:
    with app.app_context():
        try:
            return list(db.session.scalars(select(Store.id)))
        finally:
            db.session.remove()


def _processed(app, timeout: float) -> bool:
    """Poll the inbox until nothing is pending or processing; False if `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        counts = inbox_counts(app, _store_ids(app))
        if not counts.get("pending") and not counts.get("processing"):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)
