"""The soak's own PostgreSQL and Redis, and the app's processes (web, two workers, the scheduler).

A private PostgreSQL cluster (initdb + pg_ctl, on a free port, its socket in a temporary folder) and a private
redis-server, so the failover run can restart both without touching the shared servers other engineers' tests use.
The cluster is PostgreSQL's defaults except a larger max_connections (2 gunicorn workers x 8 threads, two workers,
the scheduler and the checker) and fsync on: a restart must keep what was committed. Redis runs with no persistence
(`--save "" --appendonly no`): a restart loses every queued job, the worst case, which the inbox sweeper must
recover from (docs/operations.md, "When something is down").

initdb and postgres refuse to run as root, so they run as the `postgres` user when the bench is root
(https://www.postgresql.org/docs/current/app-initdb.html).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .backends import BIN, ROOT, free_port


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class PrivatePostgres:
    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ppe-soak-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        done = subprocess.run(
            _as_postgres([shutil.which("initdb") or "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust"]),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stderr[-2000:]}")
        self.start()

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c max_connections=200 -c listen_addresses=127.0.0.1"
        argv = [shutil.which("pg_ctl") or "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-o", options]
        done = subprocess.run(_as_postgres([*argv, *args]), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed:\n{done.stderr[-2000:]}")

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        """A crash-like restart (`-m immediate`: no checkpoint, recovery from the WAL on start)."""
        self._ctl("restart", "-m", "immediate")

    def stop(self) -> None:
        try:
            self._ctl("stop", "-m", "fast")
        except RuntimeError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        from redis import Redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                Redis(port=self.port, socket_connect_timeout=1).ping()
                return
            except OSError:
                time.sleep(0.1)
            except Exception:  # noqa: BLE001  (redis' ConnectionError while it boots)
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()  # no persistence: what Redis held is gone, as after a crash
            self.process.wait()


class AppProcess:
    """One of the app's processes, the leader of its own process group (gunicorn's workers are in it)."""

    def __init__(self, label: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.label, self.argv, self.env = label, argv, env
        self.log_path = log_dir / f"{label}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.start()

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115  (kept open by the child)
        self.process = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, process_group=0
        )
        log.close()

    def kill9(self) -> None:
        """SIGKILL to the whole group, as a crashed host or the OOM killer would, then start it again."""
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self.restarts += 1
        self.start()

    def pids(self) -> list[int]:
        """The process and its children (gunicorn's workers), for RSS sampling."""
        if self.process is None or self.process.poll() is not None:
            return []
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            pids += [int(pid) for pid in children.read_text().split()]
        except OSError:
            pass
        return pids

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def app_processes(env: dict[str, str], port: int, log_dir: Path) -> dict[str, AppProcess]:
    """As the Procfile runs them: gunicorn with gunicorn.conf.py, two `flask worker`s, one `flask scheduler`."""
    web = [str(BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}", "wsgi:app"]
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    return {
        "web": AppProcess("web", web, env, log_dir),
        "worker1": AppProcess("worker1", [*flask, "worker"], env, log_dir),
        "worker2": AppProcess("worker2", [*flask, "worker"], env, log_dir),
        "scheduler": AppProcess("scheduler", [*flask, "scheduler"], env, log_dir),
    }


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total
