"""The production processes under a real supervisor: each killed with SIGKILL comes back and works.

supervisord (PyPI `supervisor`) runs deploy/supervisor/supervisord.conf as shipped: the web process (gunicorn),
two workers and the scheduler, on this session's database and Redis. honcho (the Procfile) does not restart a
process that dies, and systemd cannot run here as a service manager (no systemd as PID 1), so supervisord is the
supervisor that restarts for real; the systemd units and the Procfile run the same commands, which
tests/test_deploy_files.py checks. Each process type in turn gets SIGKILL (a crash, an OOM kill: no cleanup),
then must be running again under a new pid and doing its work: the web answers /healthz and accepts a webhook,
the workers process it, the scheduler's sweep picks up a delivery whose kick was lost.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from tests.helpers import add_store, dumps, shopify_headers, shopify_order
from tests.platform.test_serve_signals import free_port, session_processes, wait_for
from tests.test_end_to_end import BIN, ROOT

CONF = ROOT / "deploy" / "supervisor" / "supervisord.conf"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)"),
]


class Supervisor:
    def __init__(self, process: subprocess.Popen[bytes], env: dict[str, str], run: Path, port: int) -> None:
        self.process, self.env, self.run, self.port = process, env, run, port
        self.base = f"http://127.0.0.1:{port}"

    def ctl(self, *args: str) -> str:
        result = subprocess.run(
            [str(BIN / "supervisorctl"), "-c", str(CONF), *args], env=self.env, capture_output=True, text=True
        )
        return result.stdout.strip()

    def pid(self, name: str) -> int:
        """The pid supervisord runs `name` under, 0 while it is not running."""
        text = self.ctl("pid", name)
        return int(text) if text.isdigit() else 0

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.base}/healthz?deep=1", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def logs(self) -> str:
        logs = sorted(self.run.glob("*.log"))
        return "\n".join(f"== {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs)


@pytest.fixture
def supervisor(app, backend_env, tmp_path) -> Iterator[Supervisor]:
    run = tmp_path / "run"
    run.mkdir()
    port = free_port()
    env = {
        **os.environ,
        **backend_env,
        "PPE_HOME": str(ROOT),
        "PPE_RUN": str(run),
        "PPE_USER": os.environ.get("USER") or "root",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "SWEEP_AFTER_SECONDS": "1",  # the scheduler's sweep takes deliveries pending for a second
    }
    process = subprocess.Popen(
        [str(BIN / "supervisord"), "-c", str(CONF)],
        env=env,
        start_new_session=True,  # its own session: every process it starts can be found, and must be gone after
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    supervisor = Supervisor(process, env, run, port)
    try:
        yield supervisor
    finally:
        process.send_signal(signal.SIGTERM)  # supervisord stops every program (SIGTERM, then stopwaitsecs)
        process.wait(timeout=60)
        left = wait_for(lambda: not session_processes(process.pid), 10)
        assert left, f"still running after supervisord stopped: {session_processes(process.pid)}"


def deliver(supervisor: Supervisor, number: int) -> None:
    body = dumps(shopify_order(number, email=f"buyer{number}@example.com", customer_id=70000 + number))
    answer = requests.post(
        f"{supervisor.base}/webhooks/shopify",
        data=body,
        headers=shopify_headers("orders/create", body, event_id=f"sup-{number}"),
        timeout=10,
    )
    assert answer.status_code == 200 and answer.json()["status"] == "accepted", answer.text


def statuses(app) -> list[str]:
    from app.extensions import db
    from app.inbox.models import WebhookDelivery

    with app.app_context():
        try:
            return list(db.session.scalars(select(WebhookDelivery.status).order_by(WebhookDelivery.id)))
        finally:
            db.session.remove()


def all_done(app, count: int) -> bool:
    found = statuses(app)
    return len(found) == count and set(found) == {"done"}


def kill_and_see_back(supervisor: Supervisor, name: str) -> None:
    before = wait_for(lambda: supervisor.pid(name), 30)
    assert before, f"{name} is not running:\n{supervisor.logs()}"
    os.kill(before, signal.SIGKILL)
    after = wait_for(lambda: (pid := supervisor.pid(name)) and pid != before and pid, 60)
    assert after, f"{name} did not come back:\n{supervisor.ctl('status')}\n{supervisor.logs()}"


def test_each_process_type_killed_comes_back_and_works(app, supervisor):
    from app.inbox.ingest import record_delivery

    with app.app_context():
        store_id = add_store("shopify").id
    assert wait_for(supervisor.healthy, 60), supervisor.logs()
    deliver(supervisor, 1)
    assert wait_for(lambda: all_done(app, 1), 60), statuses(app)

    # The web process (gunicorn's master; its orphaned worker notices and exits): back, answering, accepting.
    kill_and_see_back(supervisor, "web")
    assert wait_for(supervisor.healthy, 60), supervisor.logs()
    deliver(supervisor, 2)
    assert wait_for(lambda: all_done(app, 2), 60), statuses(app)

    # Both workers at once, so no survivor can do the work: back, and processing.
    for name in ("worker:worker-0", "worker:worker-1"):
        kill_and_see_back(supervisor, name)
    deliver(supervisor, 3)
    assert wait_for(lambda: all_done(app, 3), 60), statuses(app)

    # The scheduler: back, and ticking. A delivery recorded without a kick (as when Redis was down at the web
    # process) is only ever enqueued by the scheduler's sweep.
    kill_and_see_back(supervisor, "scheduler")
    with app.app_context():
        body = dumps(shopify_order(4, email="buyer4@example.com", customer_id=70004))
        assert record_delivery(store_id, "shopify", "orders/create", "sup-4", body)
    assert wait_for(lambda: all_done(app, 4), 60), (statuses(app), supervisor.logs())
    # Once its startsecs have passed, supervisord holds every program as running (none given up on).
    assert wait_for(lambda: supervisor.ctl("status").count("RUNNING") == 4, 10), supervisor.ctl("status")


def test_honcho_runs_the_procfile_and_stops_it_on_sigterm(app, backend_env, tmp_path):
    """`honcho start` (development, one box): the three processes up and working; SIGTERM stops them all."""
    port = free_port()
    env = {k: v for k, v in {**os.environ, **backend_env}.items() if k != "BIND"}
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"  # the Procfile names the commands, as an activated venv finds them
    with app.app_context():
        add_store("shopify")
    log = tmp_path / "honcho.log"
    with log.open("wb") as out:
        honcho = subprocess.Popen(
            [str(BIN / "honcho"), "--no-colour", "start", "--port", str(port)],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    supervisor = Supervisor(honcho, env, tmp_path, port)  # honcho gives the first process type (web) --port
    try:
        assert wait_for(supervisor.healthy, 60), log.read_text()
        deliver(supervisor, 1)
        assert wait_for(lambda: all_done(app, 1), 60), (statuses(app), log.read_text())
    finally:
        honcho.send_signal(signal.SIGTERM)
        honcho.wait(timeout=60)
    assert wait_for(lambda: not session_processes(honcho.pid), 10), session_processes(honcho.pid)
    for kind in ("web.1", "worker.1", "scheduler.1"):
        assert f"{kind} started" in log.read_text() and f"{kind} stopped" in log.read_text()
