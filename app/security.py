"""Encryption at rest for store credentials (Fernet: AES-128-CBC + HMAC-SHA256), and the signing keys.

ENCRYPTION_KEYS is a comma-separated list, newest first: MultiFernet encrypts
with the first and decrypts with any, so keys rotate without downtime
(`flask keys reencrypt` re-encrypts every row with the newest key, after which the
old keys can go). https://cryptography.io/en/latest/fernet/#cryptography.fernet.MultiFernet

SECRET_KEY signs links and tokens (itsdangerous); SECRET_KEY_FALLBACKS are the old
keys still accepted, as Flask's own sessions accept them:
https://flask.palletsprojects.com/en/stable/config/#SECRET_KEY_FALLBACKS
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app
from itsdangerous import URLSafeTimedSerializer


class SecretBox:
    def __init__(self, keys: str) -> None:
        fernets = [Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()]
        if not fernets:
            raise RuntimeError("ENCRYPTION_KEYS is empty")
        self._fernet = MultiFernet(fernets)

    def seal(self, values: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(values, sort_keys=True).encode())

    def open(self, token: bytes | None) -> dict[str, Any]:
        if not token:
            return {}
        try:
            return json.loads(self._fernet.decrypt(bytes(token)))
        except InvalidToken as exc:
            raise RuntimeError("credentials cannot be decrypted with ENCRYPTION_KEYS") from exc

    def rotate(self, token: bytes) -> bytes:
        return self._fernet.rotate(bytes(token))


def init_app(app: Flask) -> None:
    app.extensions["secret_box"] = SecretBox(app.config["ENCRYPTION_KEYS"])


def secret_box() -> SecretBox:
    return current_app.extensions["secret_box"]


def signing_keys(config: Mapping[str, Any] | None = None) -> list[str]:
    """The keys for an itsdangerous serializer: SECRET_KEY_FALLBACKS then SECRET_KEY, which is last because
    itsdangerous signs with the last key of a list and verifies with any
    (https://itsdangerous.palletsprojects.com/en/stable/concepts/#key-rotation). The same order as Flask's
    session interface builds from the same two settings (flask/sessions.py, get_signing_serializer)."""
    config = current_app.config if config is None else config
    return [*(config.get("SECRET_KEY_FALLBACKS") or ()), str(config["SECRET_KEY"])]


def bearer(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header ("" when the header is absent or of another
    scheme; the scheme's name is case-insensitive, RFC 9110 11.1)."""
    header = authorization or ""
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


def timed_serializer(salt: str) -> URLSafeTimedSerializer:
    """The signer of our links and tokens: SECRET_KEY and its fallbacks (`signing_keys`, so a rotation keeps
    earlier ones readable), one salt per purpose so one purpose's token is never another's."""
    return URLSafeTimedSerializer(signing_keys(), salt=salt)
