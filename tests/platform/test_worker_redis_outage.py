"""A worker rides out a Redis outage: a real redis-server stopped and started again under a real `flask worker`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """redis-server on a TCP port, with an append-only file so what was queued survives a restart (as a
    production Redis with persistence does)."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory, self.port = directory, port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes"]
            + ["--appendfsync", "always", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if Redis(port=self.port, socket_timeout=1).ping():
                    return
            except OSError:
                pass
            except Exception:  # noqa: BLE001  (redis' ConnectionError while it starts)
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path, _free_port())
    server.start()
    yield server
    server.stop()


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _wait_for(predicate, timeout: float) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_worker_rides_out_a_redis_outage_while_a_job_finishes(app, backend_env, redis_server, tmp_path):
    url = f"redis://127.0.0.1:{redis_server.port}/0"
    env = {**os.environ, **backend_env, "REDIS_URL": url, "RQ_QUEUE": "outage"}
    log_path = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [str(BIN / "flask"), "--app", "wsgi", "worker"],  # our command: it becomes the rq worker
        cwd=ROOT,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        queue = Queue("outage", connection=Redis.from_url(url))
        marks = tmp_path / "marks.txt"
        for n in range(4):
            queue.enqueue("tests.platform.outage_jobs.mark", str(marks), str(n), 1.5)

        # Redis goes away while job 0 runs: it finishes during the outage, the other three wait in the queue.
        _wait_for(lambda: "start 0" in _lines(marks), timeout=60)
        redis_server.stop()
        _wait_for(lambda: "done 0" in _lines(marks), timeout=10)
        # Longer than redis-py's own retries of one command (3, with backoff up to 2 + 4 + 8 s: redis/client.py),
        # which ride out shorter outages by themselves.
        time.sleep(15)
        assert worker.poll() is None, log_path.read_text()[-3000:]
        redis_server.start()

        _wait_for(lambda: _lines(marks).count("done 3") == 1, timeout=60)
        assert worker.poll() is None, log_path.read_text()[-3000:]
        # Each job ran once, job 0's success was recorded after the outage, nothing went to the failed registry.
        assert sorted(line for line in _lines(marks) if line.startswith("done")) == [f"done {n}" for n in range(4)]
        # The job writes "done 3" before it returns; the worker records it finished after: wait for that too.
        _wait_for(lambda: queue.finished_job_registry.count == 4, timeout=30)
        assert queue.failed_job_registry.count == 0
        log = log_path.read_text()
        assert "Redis unreachable" in log and "Redis is back" in log, log
    finally:
        worker.terminate()
        worker.wait(timeout=15)
