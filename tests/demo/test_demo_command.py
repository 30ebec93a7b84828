"""`flask demo` and `flask webhooks send` as an operator runs them: progress lines when the output is not a
terminal, and a clear refusal within seconds when nothing answers at the URL (app/demo/reach.py)."""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.test_end_to_end import BIN, ROOT, service  # noqa: F401  (fixture: gunicorn + an rq worker)

pytestmark = pytest.mark.slow


def run_flask(env: dict[str, str], *args: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    return result, time.monotonic() - started


@pytest.fixture
def blackhole() -> Iterator[str]:
    """An address where a TCP connection is never completed: a listener that never accepts, its queue full.

    Linux completes the handshake for at most backlog + 1 connections waiting in the accept queue, then drops
    the SYNs of the next ones (net.ipv4.tcp_abort_on_overflow = 0), as a firewall that drops packets does. A
    non-routable address (10.255.255.1) would do the same on an open network, but not behind a proxy that
    answers for every address.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.2)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for sock in (*fillers, listener):
            sock.close()


def test_demo_says_within_seconds_that_nothing_answers(app, backend_env, blackhole):
    result, took = run_flask(backend_env, "demo", "--url", blackhole, "--orders", "20", "--customers", "5")
    assert result.returncode == 1
    assert f"{blackhole}/healthz: no connection within 3 s" in result.stderr
    # One 3 s connect timeout and the app's start (over 10 s on a loaded 2-core machine), not the 3 s timeouts of
    # every delivery and its retries (20 orders' deliveries: several minutes).
    assert took < 45, took
    assert "Traceback" not in result.stderr


def test_demo_names_a_refused_connection(app, backend_env):
    with socket.socket() as sock:  # bound, not listening: connecting is refused
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        result, _ = run_flask(backend_env, "demo", "--url", url)
    assert result.returncode == 1
    assert f"{url}/healthz: cannot connect (Connection refused)" in result.stderr


def test_webhooks_send_says_within_seconds_that_nothing_answers(app, backend_env, blackhole):
    result, took = run_flask(
        backend_env, "webhooks", "send", "shopify", "orders/create", "--store", "a.myshopify.com", "--url", blackhole
    )
    assert result.returncode == 1
    assert f"{blackhole}/webhooks/shopify: no connection within 3 s" in result.stderr
    assert took < 45, took  # one connect timeout and the app's start, not a retry schedule


def test_demo_prints_progress_lines_with_counts(service):  # noqa: F811  (the fixture imported above)
    base, env = service
    result, _ = run_flask(env, "demo", "--url", base, "--customers", "8", "--orders", "40", "--timeout", "90")
    assert result.returncode == 0, result.stdout + result.stderr
    deliveries = int(re.search(r"Scenario \(seed 1\): (\d+) deliveries", result.stdout).group(1))
    accepted = int(re.search(r"Sent \d+ in .*?: (\d+) accepted", result.stdout).group(1))
    lines = result.stderr.splitlines()
    sending = [line for line in lines if line.startswith("demo: ")]
    processing = [line for line in lines if line.startswith("processing: ")]
    # The first line at the start, the last with the totals, a rate and how long it took.
    assert sending[0].startswith(f"demo: 0/{deliveries} sent (0%), ")
    last = re.fullmatch(
        rf"demo: {deliveries}/{deliveries} sent \(100%\), accepted (\d+), processed (\d+); .*/s in .* s", sending[-1]
    )
    assert last and int(last.group(1)) == accepted and int(last.group(2)) <= accepted
    assert re.fullmatch(rf"processing: {accepted}/{accepted} processed \(100%\); .*/s in .* s", processing[-1])


def test_replay_gives_up_on_a_service_gone_silent_instead_of_retrying_every_delivery(blackhole, monkeypatch):
    from app.demo import replay as replay_module
    from app.demo.scenario import build_scenario

    monkeypatch.setattr(replay_module, "TIMEOUTS", (0.5, 5.0))  # the connect timeout, shortened for the test
    deliveries = build_scenario(seed=2, customers=4, orders=30).deliveries
    started = time.monotonic()
    report = replay_module.replay(deliveries, blackhole, {"shopify": b"s", "woocommerce": b"w"}, concurrency=2)
    # Each of the 2 threads: 4 attempts of 0.5 s and 1.4 s of backoff; then nothing more is tried.
    assert time.monotonic() - started < 10
    assert report.sent == len(deliveries) and report.by_status == {0: len(deliveries)}
    assert report.by_result["no response"] <= 2 and report.by_result["not sent"] >= len(deliveries) - 2
    assert report.unreachable and "no connection within" in report.unreachable
