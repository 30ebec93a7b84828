"""A lean HTTP/1.1 load generator for GET endpoints: closed loop (max rate) or open loop (fixed rate).

    python -m bench.sfload --port P --requests-file F [--rate R] ...

Run as its own process (bench/storefront.py starts it) and prints one JSON object on stdout. One thread, a
selector loop, N keep-alive connections, no HTTP library, like bench/loadgen.py: on a 2-core machine every cycle
spent here is taken from the server under test, and the cost is the same for every server measured.

The requests file is a JSON list of complete raw requests (strings); request n is element n % len. Closed
loop (`--rate 0`): each connection sends its next request as soon as the previous answer arrived. Open loop
(`--rate R`): request n is due at start + n/R whatever the server does; a due request waits for a free
connection, and its latency counts from when it was due, so a slow server cannot hide its queue (no
coordinated omission). `--record K` keeps the body of the first answer to each of the first K request indexes,
so the caller can check that the answers are right, not only 200.
"""

from __future__ import annotations

import argparse
import json
import selectors
import socket
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path

from bench import loadgen
from bench.loadgen import flush, take_response


@dataclass
class Conn(loadgen.Conn):
    index: int = -1  # which request this connection is waiting for (to keep sample answers)


class Generator:
    def __init__(self, args: argparse.Namespace) -> None:
        self.requests = [r.encode() for r in json.loads(Path(args.requests_file).read_text())]
        self.args = args
        self.sent = 0
        self.latencies: list[float] = []
        self.outcomes: Counter[str] = Counter()
        self.samples: dict[int, str] = {}

    def connect(self) -> Conn:
        sock = socket.create_connection(("127.0.0.1", self.args.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        return Conn(sock)

    def run(self) -> dict[str, object]:
        args = self.args
        sel = selectors.DefaultSelector()
        idle = deque(self.connect() for _ in range(args.connections))
        for conn in idle:
            sel.register(conn.sock, selectors.EVENT_READ, conn)
        interval = 1.0 / args.rate if args.rate > 0 else 0.0
        start = time.perf_counter()
        deadline = start + args.duration
        busy = 0
        while True:
            now = time.perf_counter()
            accepting = now < deadline and self.sent < args.requests
            # Closed loop: every idle connection sends now. Open loop: send what is due, due time as the start.
            while accepting and idle:
                due = start + self.sent * interval if interval else now
                if due > now:
                    break
                self.send(sel, idle.popleft(), due)
                busy += 1
            if not busy and not accepting:
                break
            timeout = 1.0
            if interval and accepting:
                timeout = max(0.0, start + self.sent * interval - time.perf_counter())
            for key, events in sel.select(timeout=timeout):
                conn: Conn = key.data
                if events & selectors.EVENT_WRITE:
                    self.flush(sel, conn)
                elif self.receive(conn):
                    busy -= 1
                    sel.modify(conn.sock, selectors.EVENT_READ, conn)
                    idle.append(conn)
            if time.perf_counter() > deadline + 30:
                self.outcomes["timeout"] += busy
                break
        elapsed = time.perf_counter() - start
        for conn in idle:
            conn.sock.close()
        return {
            "elapsed": elapsed,
            "latencies_ms": self.latencies,
            "outcomes": dict(self.outcomes),
            "samples": self.samples,
        }

    def send(self, sel: selectors.BaseSelector, conn: Conn, due: float) -> None:
        conn.index = self.sent % len(self.requests)
        conn.out = memoryview(self.requests[conn.index])
        conn.started = due
        self.sent += 1
        sel.modify(conn.sock, selectors.EVENT_WRITE, conn)
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
        self.outcomes[status] += 1
        if conn.index < self.args.record and conn.index not in self.samples:
            self.samples[conn.index] = body.decode(errors="replace")
        return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--requests-file", required=True, help="JSON list of raw HTTP requests")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=1_000_000, help="stop after this many")
    parser.add_argument("--duration", type=float, default=5.0, help="or after this many seconds")
    parser.add_argument("--rate", type=float, default=0.0, help="requests/s (open loop); 0: closed loop")
    parser.add_argument("--record", type=int, default=0, help="keep the answers to the first K request indexes")
    json.dump(Generator(parser.parse_args()).run(), sys.stdout)


if __name__ == "__main__":
    main()
