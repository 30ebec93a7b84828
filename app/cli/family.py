"""The processes `flask serve` starts, and how they stop together.

SIGTERM (what systemd, `docker stop` and `kill` send) and SIGINT (Ctrl-C) both mean: stop everything, gracefully.
Python's default SIGTERM action kills the interpreter on the spot, with no `finally` and no atexit, which left
gunicorn, the worker, the scheduler and the embedded redis-server running (and the next start failing with
"Connection in use"). So `serve` handles both signals itself: each child gets SIGTERM (gunicorn's graceful shutdown,
rq's warm shutdown), `grace` seconds to exit, then SIGKILL for its whole process group (gunicorn's workers too).
A second signal skips the rest of the grace period.

Each child leads a process group of its own (`process_group=0`), so a terminal's Ctrl-C reaches `serve` alone
and the children hear one orderly SIGTERM instead of SIGINT and SIGTERM racing. The embedded redis-server is
`serve`'s own child (app/platform/embedded_redis.py), stopped at exit, after these.

Signals: https://www.freedesktop.org/software/systemd/man/latest/systemd.kill.html (SIGTERM, then SIGKILL after
TimeoutStopSec), https://docs.docker.com/reference/cli/docker/container/stop/ (SIGTERM, then SIGKILL after the
grace period), https://docs.gunicorn.org/en/stable/signals.html (TERM: graceful shutdown),
https://python-rq.org/docs/workers/ (taking down workers: SIGTERM is a warm shutdown).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from types import FrameType, TracebackType
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    """While entered, SIGTERM and SIGINT are recorded (in `received`) instead of ending the process."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)

    @property
    def requested(self) -> bool:
        return bool(self.received)


class Family:
    """Child processes, each the leader of its own process group."""

    def __init__(self, poll_seconds: float = 0.2) -> None:
        self.children: list[subprocess.Popen[bytes]] = []
        self.poll_seconds = poll_seconds
        self._names: dict[int, str] = {}

    def start(self, argv: Sequence[str], **popen: Any) -> None:
        self.children.append(subprocess.Popen(argv, process_group=0, **popen))
        self._names[self.children[-1].pid] = os.path.basename(argv[0])

    def names(self, children: Sequence[subprocess.Popen[bytes]]) -> list[str]:
        """`gunicorn (exit 1)`, ... for messages."""
        return [f"{self._names[child.pid]} (exit {child.returncode})" for child in children]

    def wait(self, stop: StopSignals) -> list[subprocess.Popen[bytes]]:
        """Until a stop signal ([]) or until children exit on their own (those children)."""
        while not stop.requested:
            exited = [child for child in self.children if child.poll() is not None]
            if exited:
                return exited
            time.sleep(self.poll_seconds)
        return []

    def stop(self, grace: float, stop: StopSignals) -> list[subprocess.Popen[bytes]]:
        """SIGTERM to every child, SIGKILL to the process group of those still running after `grace` seconds (or
        at a further stop signal). Returns the children that were killed."""
        for child in self._running():
            _signal(child, signal.SIGTERM, group=False)
        signals_before = len(stop.received)
        deadline = time.monotonic() + grace
        while self._running() and time.monotonic() < deadline and len(stop.received) == signals_before:
            time.sleep(self.poll_seconds / 4)
        killed = self._running()
        for child in killed:
            _signal(child, signal.SIGKILL, group=True)
        for child in self.children:
            child.wait()
        return killed

    def _running(self) -> list[subprocess.Popen[bytes]]:
        return [child for child in self.children if child.poll() is None]


def _signal(child: subprocess.Popen[bytes], signum: int, group: bool) -> None:
    """Only to an unreaped child, so its pid (and group id) cannot belong to another process yet."""
    try:
        if group:
            os.killpg(child.pid, signum)
        else:
            child.send_signal(signum)
    except ProcessLookupError:
        pass
