"""Bench fixtures: a throwaway PostgreSQL database, the app's environment, gunicorn servers.

Everything the bench creates is its own: a database named ppe_bench_<hex>
(dropped afterwards), an RQ queue named bench-<hex> on the given Redis
database (deleted afterwards), and a temporary instance folder.
"""

from __future__ import annotations

import os
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from redis import Redis
from rq import Queue
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SHOP = "bench.myshopify.com"
SECRET = "bench-shopify-secret"
KICK_KEY = "ppe:inbox:kick"  # app/inbox/ingest.py (not imported: the bench never loads the app itself)


class Backends:
    """A fresh database (migrated, one Shopify store) and the environment to run the app in it."""

    def __init__(self, admin_url: str, redis_url: str) -> None:
        self.tag = uuid.uuid4().hex[:8]
        self.admin_url = make_url(admin_url).set(drivername="postgresql+psycopg")
        # BENCH_DB_TAG: a word in the name (an engineer's databases told apart on a shared server)
        self.name = f"ppe_bench_{os.environ.get('BENCH_DB_TAG', '')}{self.tag}"
        self.url = self.admin_url.set(database=self.name)
        self.redis_url = redis_url
        self.queue = f"bench-{self.tag}"
        self.instance = tempfile.mkdtemp(prefix="ppe-bench-")
        self.env = {
            **os.environ,
            "DATABASE_URL": self.url.render_as_string(hide_password=False),
            "REDIS_URL": redis_url,
            "RQ_QUEUE": self.queue,
            "SHOPIFY_API_SECRET": SECRET,
            "SECRET_KEY": "bench-secret-key",
            "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "INSTANCE_PATH": self.instance,
            "APP_ENV": "development",  # a PostgreSQL URL means production (app/config.py): no mail, no secrets here
        }
        self.env.pop("BIND", None)  # the bench picks its own loopback ports

    def check_redis(self) -> None:
        """Refuse a Redis database a live app uses: the bench's kicks share its KICK_KEY."""
        redis = Redis.from_url(self.redis_url, socket_connect_timeout=2)
        try:
            redis.ping()
            in_use = redis.exists(KICK_KEY) or [q for q in redis.smembers("rq:queues") if b":bench-" not in q]
        finally:
            redis.close()
        if in_use:
            raise RuntimeError(f"Redis {self.redis_url} is in use by an app; pass --redis-url with a spare database")

    def queued_jobs(self) -> int:
        redis = Redis.from_url(self.redis_url)
        try:
            return Queue(self.queue, connection=redis).count
        finally:
            redis.close()

    def create(self, stores: bool = True) -> None:
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        admin.dispose()
        self.engine = create_engine(self.url)
        self.flask("db", "upgrade", "heads")
        if stores:
            self.flask("stores", "add", "shopify", SHOP)

    def flask(self, *args: str) -> None:
        done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=self.env, capture_output=True)
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stderr.decode(errors='replace')[-3000:]}")

    def inbox_rows(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM webhook_inbox")).scalar_one())

    def drop(self) -> None:
        if hasattr(self, "engine"):
            self.engine.dispose()
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(self.instance, ignore_errors=True)
        redis = Redis.from_url(self.redis_url)
        try:
            Queue(self.queue, connection=redis).delete(delete_jobs=True)
            redis.delete(KICK_KEY)  # set by our runs; check_redis made sure no app shares it
        finally:
            redis.close()


@contextmanager
def app_database(admin_url: str, name: str, *, create: bool = True, keep: bool = False) -> Iterator[URL]:
    """A database for a bench that runs the app in its own process (its seeding uses the app's models): created
    unless `create` is False (a kept one, reused), this process's environment pointed at it with a temporary
    instance folder, dropped at the end unless `keep`. The caller disposes of the app's engine first."""
    admin = create_engine(make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    if create:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(drivername="postgresql+psycopg", database=name)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ.update(
                {
                    "DATABASE_URL": url.render_as_string(hide_password=False),
                    "INSTANCE_PATH": tmp,
                    "APP_ENV": "development",
                    "SECRET_KEY": "bench",
                    "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
                }
            )
            yield url
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def gunicorn_settings() -> dict[str, Any]:
    """What gunicorn.conf.py resolves to here (both servers are started with it)."""
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    return {key: conf[key] for key in ("workers", "worker_class", "threads", "keepalive")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """gunicorn with the project's gunicorn.conf.py, bound to a loopback port."""

    def __init__(self, label: str, app: str, env: dict[str, str]) -> None:
        self.label = label
        self.port = free_port()
        argv = [str(BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py")]
        argv += ["--bind", f"127.0.0.1:{self.port}", app]
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{label} did not start:\n{self.errors()}")

    def errors(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
