"""The history import's reading and parsing, per order, without the database: where its Python time goes.

    .venv/bin/python -m bench.history_parse                       # this tree, by part
    .venv/bin/python -m bench.history_parse --against /work/wt/h2-base --rounds 5

What one order costs from the bytes the platform sends to the events the import applies (docs/history-import.md):
- Shopify: the bulk file's JSONL lines (an order, then its line items on lines of their own) read into root
  objects (connectors/shopify_bulk.root_objects: the JSON decoding), each spelled as the REST order
  (shopify_history.order_payload) and parsed by the webhook's parser (shopify_snapshots.order_snapshot);
- WooCommerce: a REST page of 100 orders decoded (woocommerce_history.read_page over a canned answer) and each
  order parsed by the webhook's parser (woocommerce_history.events).
The documents are the bench's own (tests/inbox/history.py, as bench/history_import.py serves them), encoded once
up front; the collector is eased as the import eases it (history_import.collector_eased, HISTORY_GC_THRESHOLD).

`--against TREE` runs the same measurement in a child process on another checkout's code (main's, in a second
worktree), alternated round by round with this tree's, so the machine's load hits both alike; each side's figure
is its best round (the load only adds to CPU time). Both read the same documents (made once, here) and must make
the same events (a digest compared). Times are the process's CPU time (time.process_time): on a machine shared
with other work, wall time would count the waits for a core. Print the load average with the figures
(bench/README.md).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def documents(orders: int, customers: int) -> tuple[list[bytes], list[bytes]]:
    """The Shopify bulk file's lines and the WooCommerce pages' bodies for `orders` orders."""
    from tests.inbox.history import gql_order, woo_order
    from tests.standins.shopify_bulk import _connection, _held, jsonl

    held = [_held(gql_order(n, customers)) for n in range(orders)]
    lines = jsonl({"orders": _connection(held)}).splitlines()
    pages = [
        json.dumps([woo_order(n, customers) for n in range(start, min(start + 100, orders))]).encode()
        for start in range(0, orders, 100)
    ]
    return lines, pages


def _slices(items: list[Any], size: int) -> list[list[Any]]:
    return [items[at : at + size] for at in range(0, len(items), size)]


def _timed(work: Callable[[], Any]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def measure(documents_file: str) -> dict[str, float]:
    """Microseconds per order of each part, and of the whole, for each platform (this process's code); and
    `digest`, a hash of the events' repr, which must be the same on both trees (the parse results unchanged)."""
    import requests

    from app.inbox.history_import import collector_eased
    from connectors import shopify_bulk, shopify_history, woocommerce_history
    from connectors.shopify_snapshots import order_snapshot

    lines, pages = pickle.loads(Path(documents_file).read_bytes())  # noqa: S301  (the bench's own file)
    orders = len(lines) // 3

    def response(body: bytes) -> requests.Response:
        answer = requests.Response()
        answer.status_code, answer._content = 200, body
        answer.headers["Content-Type"] = "application/json"
        answer.encoding = "utf-8"  # as requests finds it from the charset WordPress sends
        return answer

    class Client:  # read_page's one call: the canned page
        body = b""

        def _call(self, *args: Any, **kwargs: Any) -> requests.Response:
            return response(self.body)

    client = Client()

    def woo_pages(bodies: list[bytes]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for body in bodies:
            client.body = body
            items.extend(woocommerce_history.read_page(client, "orders", 1).items)  # type: ignore[arg-type]
        return items

    def chunked(part: Callable[[Any], Any], inputs: list[Any]) -> Callable[[], None]:
        # Results kept a chunk at a time, as the import keeps them (its CHUNK): the collector's passes over
        # what is held stay the import's, not a whole run's.
        return lambda: [[part(x) for x in inputs[at : at + 1000]] for at in range(0, len(inputs), 1000)] and None

    def shopify_whole() -> None:
        for chunk in _slices(lines, 3000):  # an order and its two line items to a line each
            [shopify_history.events("orders", node) for node in shopify_bulk.root_objects(chunk)]

    def woo_whole() -> None:
        for at in range(0, len(pages), 10):
            [woocommerce_history.events("orders", item) for item in woo_pages(pages[at : at + 10])]

    figures: dict[str, float] = {}
    with collector_eased(int(os.environ.get("HISTORY_GC_THRESHOLD", 100000))):
        roots = list(shopify_bulk.root_objects(lines))
        payloads = [shopify_history.order_payload(node) for node in roots]
        items = woo_pages(pages)
        gc.freeze()  # the inputs, held for the whole run (an import holds one chunk's): out of the collector's passes
        figures["shopify: decode (root_objects)"] = _timed(
            lambda: [list(shopify_bulk.root_objects(chunk)) for chunk in _slices(lines, 3000)] and None
        )
        figures["shopify: spell as REST"] = _timed(chunked(shopify_history.order_payload, roots))
        figures["shopify: order_snapshot"] = _timed(chunked(order_snapshot, payloads))
        figures["shopify: whole"] = _timed(shopify_whole)
        figures["woocommerce: decode (read_page)"] = _timed(
            lambda: [woo_pages(pages[at : at + 10]) for at in range(0, len(pages), 10)] and None
        )
        figures["woocommerce: parse_order"] = _timed(chunked(lambda i: woocommerce_history.events("orders", i), items))
        figures["woocommerce: whole"] = _timed(woo_whole)
        made = [shopify_history.events("orders", n) for n in shopify_bulk.root_objects(lines[:3000])]
        made += [woocommerce_history.events("orders", i) for i in woo_pages(pages[:10])]
    digest = int(hashlib.sha256(repr(made).encode()).hexdigest()[:12], 16)
    return {part: seconds / orders * 1e6 for part, seconds in figures.items()} | {"digest": digest}


def _child(tree: Path, documents_file: str) -> dict[str, float]:
    """One measurement on `tree`'s code (its connectors and app; this bench and the documents' builders)."""
    # This bench module is this tree's; then `tree` goes first on the path and its app, connectors and tests load.
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[2]);"
        "import bench.history_parse as b; sys.path.insert(0, sys.argv[1]);"
        "[sys.modules.pop(m) for m in list(sys.modules) if m.split('.')[0] in ('app', 'connectors', 'tests')];"
        "print(json.dumps(b.measure(sys.argv[3])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tree), str(ROOT), documents_file],
        check=True,
        capture_output=True,
        text=True,
        cwd=tree,
    ).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout (main's), measured alternately")
    args = parser.parse_args()
    print(f"load average before: {open('/proc/loadavg').read().strip()}")  # noqa: SIM115, PTH123
    runs: dict[str, list[dict[str, float]]] = {"this": [], "base": []}
    with tempfile.NamedTemporaryFile(prefix="ppe-bench-parse-") as made:
        made.write(pickle.dumps(documents(args.orders, args.customers)))
        made.flush()
        for _ in range(args.rounds):
            if args.against:
                runs["base"].append(_child(args.against, made.name))
            runs["this"].append(_child(ROOT, made.name))
    print(f"load average after:  {open('/proc/loadavg').read().strip()}")  # noqa: SIM115, PTH123
    print(f"{args.orders} orders, {args.rounds} rounds, best of the rounds (CPU time has only noise to add), us/order")
    header = f"{'part':34} {'this':>8}" + (f" {'base':>8} {'base/this':>9}" if args.against else "")
    print(header)
    digests = {run.pop("digest") for side in runs.values() for run in side}
    print("events: the same on both trees" if len(digests) == 1 else "events DIFFER between the trees")
    for part in runs["this"][0]:
        this = min(r[part] for r in runs["this"])
        line = f"{part:34} {this:8.1f}"
        if args.against:
            base = min(r[part] for r in runs["base"])
            line += f" {base:8.1f} {base / this:8.2f}x"
        print(line)


if __name__ == "__main__":
    main()
