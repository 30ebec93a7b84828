"""A stand-in's HTTP server that keeps connections alive between requests, as the real services' front ends do.

werkzeug's development server always answers `Connection: close` (werkzeug/serving.py, run_wsgi: "Always close
the connection. This disables HTTP/1.1 keep-alive"), so a client's connection pool was never exercised against
it. Here the standard library's HTTP/1.1 request loop (http.server.BaseHTTPRequestHandler handles requests on
one connection until the client closes it or it idles past `IDLE_SECONDS`) calls the stand-in's WSGI app, whose
answer goes out whole with its Content-Length. Enough for our clients' requests (a Content-Length body, no
`Expect: 100-continue`, no chunked upload). Each accepted connection's client address is appended to
`connections`, so a test can count them.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
#: An idle kept-alive connection is closed after this (nginx's keepalive_timeout defaults to 75 s).
IDLE_SECONDS = 75.0


class KeepAliveServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, app: WSGIApp, connections: list[tuple[str, int]] | None) -> None:
        self.app, self.connections = app, connections
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    server: KeepAliveServer

    def setup(self) -> None:
        super().setup()
        if self.server.connections is not None:
            self.server.connections.append(self.client_address)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (http.server's signature)
        """No line per request (the bench's stand-in serves thousands a second)."""

    def _environ(self) -> dict[str, Any]:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(parts.path).decode("latin-1"),
            "QUERY_STRING": parts.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(length),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": str(self.server.server_port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": str(self.client_address[1]),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(self.rfile.read(length)),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _serve(self) -> None:
        answer: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer[:] = [status, headers]
            return lambda data: None  # the write() callable: our stand-ins return their body instead

        result = self.server.app(self._environ(), start_response)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        status, headers = answer
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve  # noqa: N815  (http.server's names)


def keep_alive_server(app: WSGIApp, connections: list[tuple[str, int]] | None = None) -> KeepAliveServer:
    """Listening on a free loopback port (`.server_port`); run it with `serve_forever()`, stop it with `shutdown()`."""
    return KeepAliveServer(app, connections)
