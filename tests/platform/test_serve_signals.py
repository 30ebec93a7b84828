"""`flask serve` stops its whole family on SIGTERM (systemd, `docker stop`, `kill`) and SIGINT (Ctrl-C).

A real `flask serve` on a free port and a temporary instance folder (SQLite, embedded redis-server), in a session
of its own so that every process it starts can be found in /proc by session id (psutil is not installed). After
the signal: serve exits 0 within its grace period, no process of the session is left and the port can be bound
again (gunicorn binds with SO_REUSEADDR, so only a live listener blocks it: "Connection in use").
proc(5): https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html (fields 4 ppid, 6 session).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GRACE = 15  # serve's --grace: idle processes stop in a second or two
T = TypeVar("T")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)"),
]


def wait_for(predicate: Callable[[], T], timeout: float) -> T:
    """The predicate's first true value, or its last (false) one once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def session_processes(sid: int) -> dict[int, str]:
    """Live processes of the session: pid -> command line (zombies count as gone: they hold no socket)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # exited while we looked
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, pgrp, session, ...
        if int(fields[3]) == sid and fields[0] != "Z":
            found[int(entry.name)] = cmdline
    return found


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


class Serve:
    """A running `flask serve` and everything it started."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process, self.port, self.log, self.sid = process, port, log, process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def family(self) -> dict[int, str] | None:
        """Every process once all have started (gunicorn: the master and its worker), else None."""
        processes = session_processes(self.sid)
        kinds = ["redis-server", "gunicorn", "scheduler", "rq worker"]
        gunicorns = [c for c in processes.values() if "gunicorn" in c]
        complete = all(any(k in c for c in processes.values()) for k in kinds) and len(gunicorns) >= 2
        return processes if complete else None

    def assert_all_gone(self, family: dict[int, str]) -> None:
        # serve reaped its children; gunicorn's worker (reaped by gunicorn) may take a moment to leave /proc
        left = wait_for(lambda: not session_processes(self.sid), 5)
        assert left, f"still running: {session_processes(self.sid)} of {family}"
        assert not port_in_use(self.port)


@pytest.fixture
def serve(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "APP_ENV", "BIND")}
    env["INSTANCE_PATH"] = str(tmp_path / "instance")  # embedded defaults: SQLite and redis-server in here
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", "serve", "--port", str(port), "--web-workers", "1"]
            + ["--rq-workers", "1", "--grace", str(GRACE)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own session: everything it starts is found by session id
        )
    running = Serve(process, port, log)
    try:
        assert wait_for(lambda: healthy(port) or process.poll() is not None, 90), "no answer on /healthz"
        assert process.poll() is None, running.output()[-3000:]
        yield running
    finally:
        if process.poll() is None or session_processes(running.sid):  # never leave a family behind a failed test
            for pid in session_processes(running.sid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            process.wait(timeout=10)


@pytest.mark.parametrize(
    ("signum", "to_group"),
    [(signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGINT, True)],
    ids=["SIGTERM", "SIGINT", "Ctrl-C"],  # Ctrl-C: a terminal sends SIGINT to its whole foreground process group
)
def test_serve_stops_every_process_it_started(serve, signum, to_group):
    family = wait_for(serve.family, 60)
    assert family, f"serve's processes did not all start: {session_processes(serve.sid)}"
    assert port_in_use(serve.port)  # the check at the end can fail

    started = time.monotonic()
    if to_group:
        os.killpg(serve.process.pid, signum)
    else:
        serve.process.send_signal(signum)
    assert serve.process.wait(timeout=GRACE + 10) == 0, serve.output()[-3000:]
    assert time.monotonic() - started < GRACE + 5

    before, stopping, after = serve.output().partition(f"{signal.Signals(signum).name}: stopping")
    assert stopping, before[-3000:]
    assert "Traceback" not in after and "ERROR" not in after, after  # in order: Redis last, after its users
    serve.assert_all_gone(family)


def test_serve_stops_everything_when_one_process_dies(serve):
    family = wait_for(serve.family, 60)
    assert family
    scheduler = next(pid for pid, command in family.items() if command.endswith("scheduler"))
    os.kill(scheduler, signal.SIGKILL)
    assert serve.process.wait(timeout=GRACE + 10) == 1
    assert "stopped because a process exited: flask (exit -9)" in serve.output()
    serve.assert_all_gone(family)


def test_a_process_that_ignores_sigterm_is_killed_with_its_group_after_the_grace_period(tmp_path):
    from app.cli.family import Family, StopSignals

    # A parent that ignores SIGTERM, and a child of its (as gunicorn's workers are): both must go.
    stubborn = "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    stubborn += (
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); print(flush=True); time.sleep(60)"
    )
    family = Family()
    with StopSignals() as stop:
        family.start([sys.executable, "-c", stubborn], stdout=subprocess.PIPE)
        leader = family.children[0]
        assert leader.stdout is not None and leader.stdout.readline()  # its child has started
        members = [pid for pid in session_processes(os.getsid(0)) if os.getpgid(pid) == leader.pid]
        assert len(members) == 2

        started = time.monotonic()
        killed = family.stop(0.5, stop)

    assert killed == [leader] and leader.returncode == -signal.SIGKILL
    assert 0.5 <= time.monotonic() - started < 5
    assert wait_for(lambda: not any(pid in session_processes(os.getsid(0)) for pid in members), 5)
    assert family.names(killed) == [f"{Path(sys.executable).name} (exit -9)"]
