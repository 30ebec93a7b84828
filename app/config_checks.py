"""What production refuses: every setting a web host, a worker and the scheduler must agree on, or that would
quietly stay on one host's disk (app/config.py raises ConfigError with these lines; `flask config check` prints
them).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from email.utils import parseaddr
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

if TYPE_CHECKING:
    from app.config import Config

#: `flask keys generate` makes 43 characters (32 random bytes); shorter keys are refused in production.
MIN_SECRET_KEY_LENGTH = 32


def production_problems(config: Config, environ: Mapping[str, str] | None = None) -> list[str]:
    """What production refuses, one line per setting, starting with its name. Everything a web host, a worker
    and the scheduler must agree on, or that would quietly stay on one host's disk, has to be set."""
    env = os.environ if environ is None else environ
    problems: list[str] = []

    def unset(name: str) -> bool:
        return not env.get(name, "").strip()

    for name, why in (
        ("DATABASE_URL", "the default is a SQLite file in this host's instance folder"),
        ("REDIS_URL", "the default is an embedded Redis in this host's instance folder"),
    ):
        if unset(name):
            problems.append(f"{name}: not set ({why})")
    if not config.SECRET_KEY:
        problems.append("SECRET_KEY: not set (every host must sign links with the same key; `flask keys generate`)")
    elif len(config.SECRET_KEY) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"SECRET_KEY: shorter than {MIN_SECRET_KEY_LENGTH} characters (`flask keys generate`)")
    if not config.ENCRYPTION_KEYS:
        problems.append("ENCRYPTION_KEYS: not set (every host must read the same credentials; `flask keys generate`)")
    else:
        for number, key in enumerate(config.ENCRYPTION_KEYS.split(","), start=1):
            try:
                Fernet(key.strip().encode())
            except ValueError:
                problems.append(f"ENCRYPTION_KEYS: key {number} is not a Fernet key (`flask keys generate`)")
    if not config.SHOPIFY_API_KEY:
        problems.append("SHOPIFY_API_KEY: not set (the app's client id, from the Partner Dashboard)")
    if not config.SHOPIFY_API_SECRET:
        problems.append("SHOPIFY_API_SECRET: not set (the app's client secret, from the Partner Dashboard)")
    if unset("APP_URL"):
        problems.append("APP_URL: not set (the public https:// address of the web processes)")
    elif urlsplit(config.APP_URL).scheme != "https" or not urlsplit(config.APP_URL).hostname:
        problems.append("APP_URL: not an https:// URL (OAuth redirects, webhook addresses and e-mail links)")
    if not config.SMTP_HOST:
        problems.append(f"SMTP_HOST: not set (mail would be written as .eml files under {config.MAIL_DIR})")
    domain = parseaddr(config.MAIL_FROM)[1].rpartition("@")[2].lower()
    if domain in ("", "localhost") or domain.endswith(".localhost"):
        problems.append("MAIL_FROM: no sender domain of yours (the default is no-reply@localhost)")
    if unset("REVIEW_PHOTO_STORAGE"):
        problems.append(
            "REVIEW_PHOTO_STORAGE: not set (the default keeps photos on this host's disk): s3 with S3_BUCKET, "
            "or disk with REVIEW_PHOTO_DIR on storage every web host mounts"
        )
    elif config.REVIEW_PHOTO_STORAGE == "s3" and not config.S3_BUCKET:
        problems.append("S3_BUCKET: not set (REVIEW_PHOTO_STORAGE=s3 stores photos in it)")
    elif config.REVIEW_PHOTO_STORAGE == "disk" and not config.REVIEW_PHOTO_DIR:
        problems.append("REVIEW_PHOTO_DIR: not set (REVIEW_PHOTO_STORAGE=disk needs a folder every web host mounts)")
    if config.WOO_ALLOW_PRIVATE_SITES:
        problems.append("WOO_ALLOW_PRIVATE_SITES: unsafe (lets a connection make us call private addresses)")
    if config.SHOPIFY_ADMIN_ORIGIN:
        problems.append("SHOPIFY_ADMIN_ORIGIN: unsafe (sends Shopify Admin API calls to a stand-in, tests only)")
    return problems
