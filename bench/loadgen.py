"""A lean closed-loop HTTP/1.1 load generator: N keep-alive connections, one process.

Run as its own process (`python -m bench.loadgen ...`) so it never shares an
interpreter with the servers; it prints one JSON object on stdout. One thread
and a selector loop, no HTTP library: on a 2-core machine every cycle spent
here is taken from the server under test, and the same cost applies to both
servers measured, so the ratio stays fair.

Each request carries the same signed body (Shopify signs the body only) and a
fresh X-Shopify-Event-Id, so every request is a new delivery; with
--duplicate every request repeats one event id.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import selectors
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Conn:
    sock: socket.socket
    out: memoryview = field(default_factory=lambda: memoryview(b""))
    buf: bytearray = field(default_factory=bytearray)
    started: float = 0.0


def flush(sel: selectors.BaseSelector, conn: Conn) -> None:
    """Send what the socket takes of the pending request; once it is all out, wait for the answer."""
    try:
        sent = conn.sock.send(conn.out)
    except BlockingIOError:
        return
    conn.out = conn.out[sent:]
    if not conn.out:
        sel.modify(conn.sock, selectors.EVENT_READ, conn)


def take_response(conn: Conn) -> tuple[str, bytes] | None:
    """Read what is there; (status code, body) once a whole response is buffered (and taken off), else None."""
    chunk = conn.sock.recv(65536)
    if not chunk:
        raise ConnectionError("server closed a keep-alive connection")
    conn.buf += chunk
    end = conn.buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(conn.buf[:end]).lower()
    length = 0
    for line in head.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            length = int(line[15:])
    if len(conn.buf) < end + 4 + length:
        return None
    body = bytes(conn.buf[end + 4 : end + 4 + length])
    del conn.buf[: end + 4 + length]
    return head[9:12].decode(), body


class Generator:
    def __init__(self, args: argparse.Namespace) -> None:
        body = Path(args.body).read_bytes()
        signature = base64.b64encode(hmac.new(args.secret.encode(), body, hashlib.sha256).digest())
        # Everything but the event id is built once: per request we only join bytes.
        self.head = (
            (
                f"POST {args.path} HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\n"
                "Content-Type: application/json\r\nX-Shopify-Topic: orders/create\r\n"
                f"X-Shopify-Shop-Domain: {args.shop}\r\nContent-Length: {len(body)}\r\n"
            ).encode()
            + b"X-Shopify-Hmac-Sha256: "
            + signature
            + b"\r\nX-Shopify-Event-Id: "
        )
        self.body = body
        self.prefix = f"{args.prefix}-".encode()
        self.duplicate = args.duplicate
        self.args = args
        self.sent = 0
        self.latencies: list[float] = []
        self.outcomes: Counter[str] = Counter()

    def request(self) -> bytes:
        event = self.prefix + (b"0" if self.duplicate else str(self.sent).encode())
        self.sent += 1
        return b"".join((self.head, event, b"\r\n\r\n", self.body))

    def connect(self) -> Conn:
        sock = socket.create_connection(("127.0.0.1", self.args.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        return Conn(sock)

    def run(self) -> dict[str, object]:
        args = self.args
        sel = selectors.DefaultSelector()
        conns = [self.connect() for _ in range(args.connections)]
        start = time.perf_counter()
        deadline = start + args.duration
        for conn in conns:
            self.start(sel, conn)
        while sel.get_map():
            for key, events in sel.select(timeout=1.0):
                conn: Conn = key.data
                if events & selectors.EVENT_WRITE:
                    self.flush(sel, conn)
                elif self.receive(conn):
                    now = time.perf_counter()
                    if self.sent < args.requests and now < deadline:
                        self.start(sel, conn, modify=True)
                    else:
                        sel.unregister(conn.sock)
                        conn.sock.close()
            if time.perf_counter() > deadline + 30:
                self.outcomes["timeout"] += len(sel.get_map())
                break
        elapsed = time.perf_counter() - start
        return {"elapsed": elapsed, "latencies_ms": self.latencies, "outcomes": dict(self.outcomes)}

    def start(self, sel: selectors.BaseSelector, conn: Conn, modify: bool = False) -> None:
        conn.out = memoryview(self.request())
        conn.started = time.perf_counter()
        if modify:
            sel.modify(conn.sock, selectors.EVENT_WRITE, conn)
        else:
            sel.register(conn.sock, selectors.EVENT_WRITE, conn)
        self.flush(sel, conn)

    def flush(self, sel: selectors.BaseSelector, conn: Conn) -> None:
        flush(sel, conn)

    def receive(self, conn: Conn) -> bool:
        """Read what is there; True once a whole response has arrived (and was recorded)."""
        answer = take_response(conn)
        if answer is None:
            return False
        self.latencies.append((time.perf_counter() - conn.started) * 1000.0)
        status, body = answer
        message = json.loads(body).get("status", "") if body.startswith(b"{") else ""
        self.outcomes[f"{status} {message}".strip()] += 1
        return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/webhooks/shopify")
    parser.add_argument("--body", required=True, help="the JSON payload file, sent as is")
    parser.add_argument("--secret", required=True, help="SHOPIFY_API_SECRET, to sign the body")
    parser.add_argument("--shop", required=True)
    parser.add_argument("--prefix", required=True, help="event ids are <prefix>-<n>: unique per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=20000, help="stop after this many")
    parser.add_argument("--duration", type=float, default=10.0, help="or after this many seconds")
    parser.add_argument("--duplicate", action="store_true", help="repeat one event id")
    json.dump(Generator(parser.parse_args()).run(), sys.stdout)


if __name__ == "__main__":
    main()
