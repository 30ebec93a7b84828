"""Review photos: checked by their magic bytes (never the client's Content-Type or file name) and stored
behind a small interface; the default keeps them on disk under instance/review_photos/, and
REVIEW_PHOTO_STORAGE=s3 keeps them in an S3-compatible bucket (storage_s3.py).

Magic numbers: JPEG FF D8 FF, PNG 89 50 4E 47 0D 0A 1A 0A, WebP "RIFF" <size> "WEBP"
(https://developers.google.com/speed/webp/docs/riff_container).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import IO, Protocol

from app.errors import InvalidInput

MAX_PHOTO_BYTES = 5 * 1024 * 1024


class PhotoRefused(InvalidInput):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # photo_type | photo_size | photo_count


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the first bytes, or None when not an image we take."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def read_photo(stream: IO[bytes], max_bytes: int = MAX_PHOTO_BYTES) -> tuple[bytes, str, str]:
    data = stream.read(max_bytes + 1)  # never more than the limit in memory
    if len(data) > max_bytes:
        raise PhotoRefused("photo_size")
    kind = sniff(data[:16])
    if kind is None:
        raise PhotoRefused("photo_type")
    return data, kind[0], kind[1]


class PhotoStorage(Protocol):
    """Keys are "<store id>/<sha256>.<ext>" whatever the backend; photos are checked (read_photo) before save."""

    def save(self, store_id: int, data: bytes, extension: str) -> str: ...
    def open(self, key: str) -> bytes | None: ...
    def link(self, key: str) -> str | None: ...  # where a browser fetches it directly; None: our /r/photos route
    def public_url(self, key: str) -> str | None: ...  # a stable URL for API answers; None: our /r/photos route


def photo_key(store_id: int, data: bytes, extension: str) -> str:
    return f"{store_id}/{hashlib.sha256(data).hexdigest()}.{extension}"


def valid_key(key: str) -> bool:
    parts = key.split("/")
    return len(parts) == 2 and parts[0].isdigit() and "." in parts[1] and ".." not in key and "\\" not in key


class LocalPhotoStorage:
    """Files named by their SHA-256 under <root>/<store id>/: the key is "<store id>/<sha256>.<ext>"."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def save(self, store_id: int, data: bytes, extension: str) -> str:
        key = photo_key(store_id, data, extension)
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)  # atomic: a reader never sees half a file
        return key

    def open(self, key: str) -> bytes | None:
        if not valid_key(key):
            return None
        path = self.root / key
        return path.read_bytes() if path.is_file() else None

    def link(self, key: str) -> str | None:
        return None  # served by /r/photos/<key>

    def public_url(self, key: str) -> str | None:
        return None
