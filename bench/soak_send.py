"""The soak's sender: POSTs a stream of signed webhooks at a target rate, in its own process.

    python -m bench.soak_send --stream FILE --port PORT --rate 300 --out FILE

Open loop: webhook i is due at start + i / rate, whatever the answers before it did, so a slow server shows as a
higher latency and a lower achieved rate, not as a politely slower sender. `--threads` keep-alive connections
(http.client) take the next due webhook. As the platforms do, a 503 or a dropped connection is retried (Shopify
retries for hours; here for up to `--give-up` seconds per webhook, 1 s apart at most): a webhook is acknowledged
when an attempt gets 200. Latency is the last attempt's (send to answer); retries are counted.
Writes one JSON list per webhook to --out: [index, sent_at (epoch s), latency_ms, status, result, retries].
"""

from __future__ import annotations

import argparse
import http.client
import json
import pickle
import threading
import time
from typing import Any


class Sender:
    def __init__(self, args: argparse.Namespace, stream: list[tuple[str, dict[str, str], bytes]]) -> None:
        self.args, self.stream = args, stream
        self.lock = threading.Lock()
        self.next = 0
        self.results: list[list[Any] | None] = [None] * len(stream)
        self.start = time.monotonic() + 0.5
        self.wall = time.time() - time.monotonic()  # monotonic -> epoch

    def take(self) -> int | None:
        with self.lock:
            if self.next >= len(self.stream):
                return None
            index, self.next = self.next, self.next + 1
            return index

    def run(self) -> None:
        threads = [threading.Thread(target=self.loop, daemon=True) for _ in range(self.args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def loop(self) -> None:
        conn: http.client.HTTPConnection | None = None
        while (index := self.take()) is not None:
            due = self.start + index / self.args.rate
            if (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            conn, self.results[index] = self.send(conn, index)

    def send(self, conn: http.client.HTTPConnection | None, index: int) -> tuple[Any, list[Any]]:
        platform, headers, body = self.stream[index]
        first = time.monotonic()
        retries = 0
        while True:
            started = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.args.port, timeout=30)
                conn.request("POST", f"/webhooks/{platform}", body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                status = answer.status
                if answer.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn, status, data = None, 0, b""
            latency = (time.monotonic() - started) * 1000.0
            if status in (0, 502, 503) and time.monotonic() - first < self.args.give_up:
                retries += 1
                time.sleep(min(1.0, 0.1 * 2**retries))
                continue
            try:
                result = json.loads(data).get("status", "") if data.startswith(b"{") else ""
            except ValueError:
                result = ""
            return conn, [index, self.wall + started, round(latency, 2), status, result, retries]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stream", required=True, help="pickled [(platform, headers, body)]")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="webhooks per second")
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--give-up", type=float, default=180.0, help="seconds of retries per webhook")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.stream, "rb") as handle:
        stream = pickle.load(handle)  # noqa: S301  (our own file, written by bench/soak.py)
    sender = Sender(args, stream)
    sender.run()
    with open(args.out, "w") as handle:
        json.dump(sender.results, handle)


if __name__ == "__main__":
    main()
