"""The storefront widget's files (static/widget.js, widget.css) at versioned, long-cached URLs.

`/widget/<version>/widget.js` and `.../widget.css`, where <version> is the first 12 hex digits of the SHA-256 of
both files: a URL never changes meaning, so browsers and CDNs may keep it a year (`immutable`). A theme that
cannot know the version includes `/widget/latest/widget.js`, a short-lived redirect (5 minutes) to the current
one (so does a version replaced by a deploy); the script loads the CSS next to itself. Shopify themes get the
same files from the theme app extension (extensions/ppe-widget/assets, copied by scripts/build-widget).
https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Cache-Control#immutable
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Response, abort, redirect, request
from werkzeug.wrappers import Response as BaseResponse  # what redirect() returns; flask's Response subclasses it

from app.storefront import bp

STATIC = Path(__file__).parent / "static"
FILES = {"widget.js": "text/javascript; charset=utf-8", "widget.css": "text/css; charset=utf-8"}
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=300"


@lru_cache(maxsize=1)
def _bundle() -> tuple[str, dict[str, bytes]]:
    """(version, {name: bytes}); read once per process: a deploy ships new files with a new process."""
    contents = {name: (STATIC / name).read_bytes() for name in FILES}
    digest = hashlib.sha256(b"".join(contents[name] for name in sorted(contents))).hexdigest()
    return digest[:12], contents


def widget_version() -> str:
    return _bundle()[0]


def widget_path(name: str = "widget.js") -> str:
    """The versioned path of a widget file (prefix APP_URL for a theme)."""
    return f"/widget/{widget_version()}/{name}"


@bp.get("/widget/<version>/<name>")
def widget_file(version: str, name: str) -> BaseResponse:
    current, contents = _bundle()
    if name not in FILES:
        abort(404)
    if version != current:
        # "latest", or a version an old page still names (a deploy replaced it): the current file, briefly cached.
        response = redirect(widget_path(name), code=302)
        response.headers["Cache-Control"] = SHORT_CACHE
        return response
    response = Response(contents[name], mimetype=FILES[name].split(";")[0])
    response.headers["Content-Type"] = FILES[name]
    response.headers["Cache-Control"] = LONG_CACHE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Access-Control-Allow-Origin"] = "*"  # public files; lets themes use crossorigin/SRI
    response.set_etag(current)
    return response.make_conditional(request)
