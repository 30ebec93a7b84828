"""The storefront widget's files (static/widget*.js, widget.css) at versioned, long-cached URLs, compressed.

`/widget/<version>/<name>`, where <version> is the first 12 hex digits of the SHA-256 of all the files: a URL
never changes meaning, so browsers and CDNs may keep it a year (`immutable`). A theme that cannot know the
version names `/widget/latest/widget.js`: the current file itself (no redirect, which cost a round trip on every
first visit), kept 5 minutes and then revalidated by its ETag; so is a version a deploy replaced. widget.js
loads its other files (reviews, panel, strings, CSS) from next to itself. Shopify themes get the same files
from the theme app extension (extensions/ppe-widget/assets; both built by scripts/build-widget).

Each file is kept raw, gzip and brotli, chosen by Accept-Encoding (`Vary`), each with its own strong ETag
(a strong validator names one representation: https://www.rfc-editor.org/rfc/rfc9110#name-etag).
https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Cache-Control#immutable
"""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

import brotli
from flask import Response, abort, request
from werkzeug.wrappers import Response as BaseResponse  # what make_conditional returns

from app.storefront import bp

STATIC = Path(__file__).parent / "static"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=300"
ENCODINGS = ("br", "gzip")  # preferred first when the browser accepts both equally


@lru_cache(maxsize=1)
def _bundle() -> tuple[str, dict[str, dict[str, bytes]]]:
    """(version, {name: {encoding: bytes}}); read and compressed once per process (a deploy starts new ones)."""
    raw = {p.name: p.read_bytes() for p in sorted(STATIC.glob("widget*")) if p.suffix in TYPES}
    version = hashlib.sha256(b"".join(name.encode() + raw[name] for name in raw)).hexdigest()[:12]
    files = {
        name: {
            "identity": body,
            "gzip": gzip.compress(body, compresslevel=9, mtime=0),
            "br": brotli.compress(body, quality=11, mode=brotli.MODE_TEXT),
        }
        for name, body in raw.items()
    }
    return version, files


def widget_version() -> str:
    return _bundle()[0]


def widget_path(name: str = "widget.js") -> str:
    """The versioned path of a widget file (prefix APP_URL for a theme)."""
    return f"/widget/{widget_version()}/{name}"


def _encoding() -> str:
    accepted = request.accept_encodings
    best = max(ENCODINGS, key=lambda e: (accepted[e], -ENCODINGS.index(e)))
    return best if accepted[best] > 0 else "identity"


@bp.get("/widget/<version>/<name>")
def widget_file(version: str, name: str) -> BaseResponse:
    current, files = _bundle()
    if name not in files:
        abort(404)
    encoding = _encoding()
    body = files[name][encoding]
    response = Response(body, content_type=TYPES[Path(name).suffix])
    if encoding != "identity":
        response.headers["Content-Encoding"] = encoding
    response.headers["Vary"] = "Accept-Encoding"
    # "latest", or a version an old page still names (a deploy replaced it): the current file, briefly cached.
    response.headers["Cache-Control"] = LONG_CACHE if version == current else SHORT_CACHE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Access-Control-Allow-Origin"] = "*"  # public files; lets themes use crossorigin/SRI
    response.set_etag(f"{hashlib.sha256(body).hexdigest()[:16]}-{encoding}")
    return response.make_conditional(request)
