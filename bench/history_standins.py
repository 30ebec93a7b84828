"""The stand-in platforms the history import benches read from (bench/history_import.py, bench/history_kill.py):
a Shopify bulk file and a WooCommerce store's REST pages, made when asked for, served from a process of their own
(or threads of the bench's)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

#: Where the Shopify stand-in's bulk files are kept between runs, named by what they hold (`_prepared`).
CACHE = Path(tempfile.gettempdir()) / "ppe-bench-bulk-files"
#: The generators and the writer: a file made by other code than today's is made again.
_MAKERS = ("tests/inbox/history.py", "tests/standins/shopify_bulk.py", "connectors/shopify_history.py")


@contextmanager
def standins(
    orders: int,
    customers: int,
    platforms: str = "shopify,woocommerce",
    *,
    apart: bool = True,
    page_seconds: float = 0,
    bulk_files: str = "before",
    made: dict[str, Any] | None = None,
) -> Iterator[tuple[Any, Any]]:
    """The Shopify stand-in (its bulk query's data) and a WooCommerce stand-in site (its REST pages), each with
    the generated history (tests/inbox/history.py) when its platform is in `platforms`, made when asked for: a
    REST page's hundred records when it is requested, the bulk file line by line onto disk while the operation
    runs (tests/standins/generated.py; built up front a million orders took 6-16 GB: bench/README.md). Orders are
    placed a minute apart, the last a day before now, so a history of any size is all past (the generator's own
    start, 2025-03-01, put orders past 930,000 after today: the import took them as live).

    `apart`: both servers run in a process of their own (forked here), as the platforms run on machines of
    their own; otherwise in threads of this one, as before 2026-12-07's second session, where their work (making
    and encoding the pages, writing the file) shares this process's GIL with the import it serves.
    `page_seconds`: how long the WooCommerce site takes over a page beyond its own work (a real store's PHP and
    MySQL: 0.3-1 s a page of 100 orders), slept, so no core is used.
    `bulk_files`: "before" makes the Shopify bulk files of the import's two queries (connectors/shopify_history.py)
    here, before the caller's timed window, or takes them from CACHE when the same ones were made before
    (`made` gets, per query, the seconds it took, or "cached"); the operations then serve them as made
    (tests/standins/shopify_bulk.prepare): still asked for by bulkOperationRunQuery, polled, downloaded over HTTP.
    "during" writes each file while its operation runs, as the bench did until 2026-12-07's night: inside the window."""
    from tests.helpers import SHOP
    from tests.inbox.history import PAST, gql_customer, gql_order, woo_customer, woo_order
    from tests.standins.generated import Generated
    from tests.standins.shopify import StandInServer, StandInShopify, admin_schema
    from tests.standins.woocommerce import WooStandin

    # From midnight, not now: the same history all day, so its bulk files can be cached.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    when = min(PAST, today - timedelta(days=1, minutes=orders))
    shop_n, woo_n = (orders if name in platforms else 0 for name in ("shopify", "woocommerce"))
    # Customers by the platform chosen, not by its orders: a store with customers and no order yet has them.
    shop_c, woo_c = (customers if name in platforms else 0 for name in ("shopify", "woocommerce"))
    admin_schema()
    shopify = StandInShopify(api_key="key", api_secret="secret")
    shop_server = StandInServer(shopify)  # sets the origin; served by _serving below
    shopify._access["shpat_test"] = (SHOP, float("inf"))
    spool = tempfile.mkdtemp(prefix="ppe-bench-bulk-")
    bulk = shopify.state(SHOP).bulk
    bulk.spool = spool
    bulk.customers = Generated(shop_c, gql_customer)
    bulk.orders = Generated(shop_n, partial(gql_order, customers=customers, when=when))
    if bulk_files == "before" and "shopify" in platforms:
        for kind, seconds in _prepared(bulk, admin_schema(), (orders, customers, when.isoformat())).items():
            if made is not None:
                made[kind] = seconds
    site = WooStandin(keep_alive=True)  # a store's web server keeps the import's connections open
    site.keys["ck_test"] = {"secret": "cs_test", "permissions": "read_write", "key_id": 1}
    site.customers = Generated(woo_c, woo_customer)
    site.orders = Generated(woo_n, partial(woo_order, customers=customers, when=when))
    site.page_seconds = page_seconds
    try:
        with _serving([shop_server._server, site._server], apart=apart):
            yield shopify, site
    finally:
        shutil.rmtree(spool, ignore_errors=True)


def _prepared(bulk: Any, schema: Any, made_by: tuple[Any, ...]) -> dict[str, float | str]:
    """Each of the import's bulk queries' files prepared on `bulk`: taken from CACHE when a file of the same
    query, records and makers is there, else made into it (the seconds it took). A file is renamed into place
    once whole, so an interrupted run leaves none half made."""
    from connectors.shopify_history import QUERIES
    from tests.standins.shopify_bulk import Prepared, prepare

    root = Path(__file__).resolve().parent.parent
    makers = hashlib.sha256(b"".join((root / name).read_bytes() for name in _MAKERS)).hexdigest()
    CACHE.mkdir(exist_ok=True)
    out: dict[str, float | str] = {}
    for kind, query in QUERIES.items():
        key = hashlib.sha256(json.dumps([query, *made_by, makers]).encode()).hexdigest()[:24]
        path, counts = CACHE / f"{kind}-{key}.jsonl", CACHE / f"{kind}-{key}.json"
        if path.exists() and counts.exists():
            objects, roots = json.loads(counts.read_text())
            bulk.prepared[query] = Prepared(path, objects, roots)
            out[kind] = "cached"
            continue
        started = time.perf_counter()
        fresh = prepare(bulk, schema, query, str(CACHE))
        fresh.path.rename(path)
        counts.write_text(json.dumps([fresh.objects, fresh.roots]))
        bulk.prepared[query] = Prepared(path, fresh.objects, fresh.roots)
        out[kind] = round(time.perf_counter() - started, 2)
    return out


@contextmanager
def _serving(servers: list[Any], *, apart: bool) -> Iterator[None]:
    if not apart:
        for server in servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield
        finally:
            for server in servers:
                server.shutdown()
        return
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the stand-ins' process: serves until killed, or until the bench is gone
        # A line per request (10,000 pages at a million orders) is the store's log, not the bench's output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        try:
            for server in servers:
                threading.Thread(target=server.serve_forever, daemon=True).start()
            while os.getppid() == parent:
                time.sleep(1)
        finally:
            os._exit(0)
    for server in servers:
        server.socket.close()  # the child accepts on them
    try:
        yield
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
