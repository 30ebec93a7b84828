"""One soak run's state: its services and processes, the failover events, and the end (drain, check, report)."""

from __future__ import annotations

import argparse
import os
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any


class Run:
    def __init__(self, args: argparse.Namespace, logs: Path) -> None:
        self.args, self.logs = args, logs
        self.pg: Any = None
        self.redis: Any = None
        self.backends: Any = None
        self.procs: dict[str, Any] = {}
        self.timers: list[threading.Timer] = []
        self.events: list[tuple[float, str]] = []
        self.sampler: Any = None
        self.burst: Any = None
        self.burst_stream: list[Any] = []
        self.burst_start = self.burst_end = 0.0
        self.send_start = self.send_end = 0.0

    # -- processes ---------------------------------------------------------------------------------------------

    def wait_healthy(self, timeout: float = 300.0) -> None:
        """Up to 5 minutes: on this shared 2-core machine under a load of 12-18, gunicorn took over a minute to
        load the app."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"web did not answer /healthz within {timeout:g} s; see {self.logs}/web.log")

    def start_sampler(self) -> None:
        from .soak_report import RssSampler

        def groups() -> dict[str, list[int]]:
            found = {label: proc.pids() for label, proc in self.procs.items()}
            found["postgres"] = self._postgres_pids()
            if self.redis is not None and self.redis.process is not None:
                found["redis"] = [self.redis.process.pid]
            return found

        self.sampler = RssSampler(groups)
        self.sampler.start()

    def _postgres_pids(self) -> list[int]:
        """The private cluster's postmaster and its backends (all processes whose parent is the postmaster)."""
        try:
            postmaster = int((self.pg.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError, AttributeError):
            return []
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children")
        try:
            return [postmaster, *(int(pid) for pid in children.read_text().split())]
        except OSError:
            return [postmaster]

    # -- failover ----------------------------------------------------------------------------------------------

    def schedule(self, delay: float, action: Callable[[], Any]) -> None:
        timer = threading.Timer(delay, action)
        timer.daemon = True
        timer.start()
        self.timers.append(timer)

    def event(self, label: str, action: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            started = time.time()
            try:
                action()
                self.events.append((started, f"{label} ({time.time() - started:.1f} s)"))
            except Exception as exc:  # noqa: BLE001  (reported, the soak goes on)
                self.events.append((started, f"{label} FAILED: {exc}"))
            print(f"failover: {self.events[-1][1]} at +{started - self.send_start:.0f} s", flush=True)

        return run

    def schedule_failover(self, duration: float) -> None:
        """kill -9 a worker, then the web process (gunicorn and its workers), restart PostgreSQL, restart Redis:
        spread over the stream, each restarted at once as a supervisor would (Restart=always)."""
        steps = [
            (0.2, "kill -9 worker1 and start it again", self.procs["worker1"].kill9),
            (0.35, "kill -9 web (gunicorn master and workers) and start it again", self.procs["web"].kill9),
            (0.5, "restart PostgreSQL (pg_ctl restart -m immediate)", self.pg.restart),
            (0.65, "restart Redis (kill, start empty)", self.redis.restart),
        ]
        for share, label, action in steps:
            self.schedule(duration * share, self.event(label, action))

    def stop_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()

    # -- the end -----------------------------------------------------------------------------------------------

    def finish(self) -> bool:
        from .soak_finish import finish

        return finish(self)

    def close(self) -> None:
        self.stop_timers()
        if self.sampler is not None:
            self.sampler.stop()
        for proc in self.procs.values():
            proc.stop()
        if self.backends is not None and hasattr(self.backends, "engine"):
            self.backends.engine.dispose()
        for service in (self.redis, self.pg):
            if service is not None:
                service.stop()
        if self.backends is not None:
            import shutil

            shutil.rmtree(self.backends.instance, ignore_errors=True)
        print(f"load average {'/'.join(f'{x:.1f}' for x in os.getloadavg())} at the end")
