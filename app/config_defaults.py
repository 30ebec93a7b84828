"""The embedded defaults for zero-setup runs (app/config.py): the instance folder, the development secrets
generated there once, and the SQLite database in it.

Production generates nothing (docs/configuration.md): `secret` answers only the environment's value there, and
Config() refuses to build without the settings these defaults stand in for (app/config_checks.py).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def instance_dir() -> Path:
    """Where the embedded defaults keep their files: read when a Config is built, not at import (tests set it)."""
    return Path(os.environ.get("INSTANCE_PATH", ROOT / "instance"))


def dev_secrets() -> dict[str, str]:
    """Secrets generated once per checkout, so an embedded run needs no setup.

    Never used when the environment provides the value.
    """
    path = instance_dir() / "dev-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    values = {
        "SECRET_KEY": secrets.token_urlsafe(32),
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SHOPIFY_API_SECRET": "dev-" + secrets.token_hex(16),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(values, handle, indent=2)
    return values


def secret(name: str, production: bool) -> str | None:
    """SECRET_KEY, ENCRYPTION_KEYS, SHOPIFY_API_SECRET: the environment's, else (development only) generated."""
    value = os.environ.get(name)
    if value or production:
        return value or None
    return dev_secrets()[name]


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{instance_dir() / 'app.db'}"
    # Heroku-style URLs name the old driver; we ship psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url
