"""Where a history import reads from: each platform's documents in chunks, each chunk with the cursor after it.

- Shopify (connectors/shopify_bulk.py): one bulk query per kind (customers, then orders). The operation's id is
  saved before waiting for it, so a restarted import waits for the same operation instead of starting another;
  its file is read a root object at a time, skipping the objects the cursor says are done.
- WooCommerce (connectors/woocommerce_history.py): pages of 100, oldest id first, five pages to a chunk (fifty on
  the bulk path); the cursor is the last page applied. Several pages are requested at once (`pages_in_flight`,
  HISTORY_WOO_PAGES_IN_FLIGHT), up to a chunk's pages read ahead while a chunk is applied, and applied in page
  order.
Both retry what the platform asks to be retried (429 after its Retry-After, 5xx and timeouts with backoff)
a few times before the import stops as `failed`, to be resumed from its cursor.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from app.inbox.history_apply import CHUNK, Document
from connectors import shopify_bulk, shopify_history, woocommerce_history
from connectors.exceptions import RateLimited, StoreUnavailable
from connectors.shopify_admin import AdminClient
from connectors.woocommerce_admin import PER_PAGE, WooAdminClient

T = TypeVar("T")
TRIES = 6
MAX_WAIT_SECONDS = 60.0
PAGES_IN_FLIGHT = 4


class Waiting(Exception):
    """A bulk operation is still running after the job's wait: the finish webhook or the scheduler resumes."""


@dataclass
class Chunk:
    documents: list[Document]
    cursor: dict[str, Any]


@dataclass
class Reading:
    """What a source needs from the runner: the kind's saved cursor, a way to save one, the total once known."""

    cursor: dict[str, Any]
    save_cursor: Callable[[dict[str, Any]], None]
    set_total: Callable[[int | None], None]
    poll_seconds: float
    wait_seconds: float
    heartbeat: Callable[[], Any] = lambda: None
    chunk: int = CHUNK  # documents per chunk (the bulk path takes larger ones: inbox/history_bulk.py)
    sleep: Callable[[float], None] = lambda seconds: time.sleep(seconds)  # noqa: E731  (looked up at call: tests patch it)
    clock: Callable[[], float] = time.monotonic
    pages_in_flight: int = PAGES_IN_FLIGHT  # WooCommerce: pages requested at once (HISTORY_WOO_PAGES_IN_FLIGHT)


def retrying(call: Callable[[], T], sleep: Callable[[float], None] = time.sleep) -> T:
    """`call`, again after a throttle (its wait, capped) or an outage (1, 2, 4... s), at most TRIES times."""
    for attempt in range(TRIES):
        try:
            return call()
        except RateLimited as exc:
            if attempt == TRIES - 1:
                raise
            sleep(min(exc.retry_after, MAX_WAIT_SECONDS))
        except StoreUnavailable:
            if attempt == TRIES - 1:
                raise
            sleep(min(2.0**attempt, MAX_WAIT_SECONDS))
    raise AssertionError("unreachable")


def _document(key: str, parse: Callable[[], Any]) -> Document:
    try:
        return Document(key, parse())
    except Exception as exc:  # noqa: BLE001  (a document we cannot parse is counted, never the import's end)
        return Document(key, exc)


def shopify_chunks(client: AdminClient, kind: str, reading: Reading) -> Iterator[Chunk]:
    cursor = dict(reading.cursor)
    if not cursor.get("operation"):
        operation = retrying(lambda: shopify_bulk.start(client, shopify_history.QUERIES[kind]), reading.sleep)
        cursor = {"operation": operation, "done": 0}
        reading.save_cursor(cursor)
    deadline = reading.clock() + reading.wait_seconds
    while True:
        status = retrying(lambda: shopify_bulk.status(client, cursor["operation"]), reading.sleep)
        if not status.running:
            break
        if reading.clock() >= deadline:
            raise Waiting(kind)
        reading.sleep(reading.poll_seconds)
        reading.heartbeat()
    reading.set_total(status.root_objects)
    if status.url is None:
        return  # nothing to import: Shopify gives no file for an empty result
    skip, done = int(cursor.get("done") or 0), 0
    documents: list[Document] = []
    for node in shopify_bulk.root_objects(shopify_bulk.download(status.url)):
        done += 1
        if done <= skip:
            continue
        documents.append(_document(str(node.get("id")), partial(shopify_history.events, kind, node)))
        if done % 500 == 0:
            reading.heartbeat()  # the runner's lease, while a large chunk is read (the bulk path's 5,000)
        if len(documents) >= reading.chunk:
            yield Chunk(documents, {"operation": cursor["operation"], "done": done})
            documents = []
    if documents:
        yield Chunk(documents, {"operation": cursor["operation"], "done": done})


def woo_chunks(client: WooAdminClient, kind: str, reading: Reading) -> Iterator[Chunk]:
    """Pages in the store's order, up to `reading.pages_in_flight` of them requested at once (a store answers a page
    of 100 orders in 0.3-1 s: one at a time, the import waits on it), over kept-alive connections. Up to a chunk's
    pages are asked for ahead (queued behind those in flight), so the next chunk's pages travel and are decoded
    while this one is applied (the runner then mostly waits on the database) rather than after it. They are
    consumed and chunked in page order whatever order they arrive in, so a chunk's cursor is still the last page
    it holds; a page that fails (a 429, a 5xx) is retried on its own thread while the others travel."""
    page = int(reading.cursor.get("page") or 0)
    width = max(1, reading.pages_in_flight)
    ahead_pages = max(width, -(-reading.chunk // PER_PAGE))  # a chunk's pages
    documents: list[Document] = []
    session = client.session(width)

    def fetch(number: int) -> woocommerce_history.Page:
        return retrying(lambda: woocommerce_history.read_page(client, kind, number, session), reading.sleep)

    pool = ThreadPoolExecutor(max_workers=width)
    try:
        # The first page alone: its X-WP-TotalPages bounds the pages asked for (none past the last one).
        ahead: deque[Future[woocommerce_history.Page]] = deque([pool.submit(fetch, page + 1)])
        asked = page + 1
        while True:
            current = ahead.popleft().result()
            reading.heartbeat()  # a chunk may be many pages (the bulk path's 50): the runner's lease, at each
            reading.set_total(current.total)
            last = not current.items or (current.total_pages is not None and page + 1 >= current.total_pages)
            if not last:  # the next pages travel while this one is parsed and chunks are applied
                known = current.total_pages if current.total_pages is not None else page + 2
                while len(ahead) < ahead_pages and asked < known:
                    asked += 1
                    ahead.append(pool.submit(fetch, asked))
            if current.items:
                page += 1
                for item in current.items:
                    key = str(item.get("id"))
                    documents.append(_document(key, partial(woocommerce_history.events, kind, item)))
            if documents and (last or len(documents) >= reading.chunk):
                yield Chunk(documents, {"page": page})
                documents = []
            if last:
                return
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # pages not yet asked for are dropped, not read
        session.close()
