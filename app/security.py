"""Encryption at rest for store credentials (Fernet: AES-128-CBC + HMAC-SHA256).

ENCRYPTION_KEYS is a comma-separated list, newest first: MultiFernet encrypts
with the first and decrypts with any, so keys rotate without downtime
(`flask stores rotate-keys` re-encrypts every row with the newest key).
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app


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
