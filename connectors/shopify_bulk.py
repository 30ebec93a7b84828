"""Shopify bulk query operations: start one, ask how it is doing, read its JSONL result a root object at a time.

Docs relied on (Admin GraphQL 2026-10):
- https://shopify.dev/docs/api/usage/bulk-operations/queries: `bulkOperationRunQuery(query:)` runs a query
  (at least one connection, at most five, nested two levels deep) in the background; when its status is
  COMPLETED, `url` is a JSONL file, one object per line. A nested connection's objects are lines of their
  own that name their parent in `__parentId`; with `groupObjects: true` they come directly below their
  parent (https://shopify.dev/changelog/posts/optional-groupobjects-argument-in-bulk-operations-mutations-that-offers-faster-and-more-reliable-job-execution),
  which is what lets us read the file a root object at a time, and resume at a root's line. List fields (an
  order's refunds and fulfillments) stay inside their object. One bulk query per shop at a time.
- https://shopify.dev/docs/api/admin-graphql/2026-10/queries/bulkOperation: polled by id
  (`currentBulkOperation` is deprecated in 2026-10); `rootObjectCount` counts the top-level objects so far.
- The `bulk_operations/finish` webhook says an operation ended (app/inbox/history_import.py resumes on it).
The file's URL is signed and expires after seven days; it is fetched without the shop's token.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from .decoding import loads
from .exceptions import ConnectorError, StoreUnavailable
from .shopify_admin import AdminClient, UserErrors

RUN_QUERY = """
mutation RunBulkQuery($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: true) {
    bulkOperation { id status }
    userErrors { field message }
  }
}
"""

POLL = """
query BulkOperation($id: ID!) {
  bulkOperation(id: $id) { id status errorCode objectCount rootObjectCount url partialDataUrl }
}
"""

# Deprecated in 2026-10 in favour of bulkOperation(id:), but the one way to find an operation whose id we never
# received: https://shopify.dev/docs/api/admin-graphql/2026-10/queries/currentBulkOperation
CURRENT = """
query CurrentBulkOperation {
  currentBulkOperation(type: QUERY) { id status query }
}
"""

DONE = "COMPLETED"
RUNNING = ("CREATED", "RUNNING")
DOWNLOAD_TIMEOUT_SECONDS = 60.0
#: The file is read from the socket in pieces this large and split into lines: requests' iter_lines reads 512
#: bytes at a time unless told otherwise, a trip through urllib3's reader each (a million orders' file is ~2 GB).
DOWNLOAD_PIECE_BYTES = 1 << 20


class BulkOperationFailed(ConnectorError):
    """The operation ended FAILED, CANCELED or EXPIRED (errorCode when Shopify gave one)."""


@dataclass(frozen=True)
class BulkStatus:
    operation_id: str
    status: str
    root_objects: int
    url: str | None
    error_code: str | None

    @property
    def running(self) -> bool:
        return self.status in RUNNING


def start(client: AdminClient, query: str) -> str:
    """Start a bulk query; its operation id (a gid). When Shopify refuses because one is running and it is this
    very query (ours, started by a call whose answer was lost), that one is adopted."""
    payload = client.execute(RUN_QUERY, {"query": query}).get("bulkOperationRunQuery") or {}
    if payload.get("userErrors"):
        current = client.execute(CURRENT).get("currentBulkOperation") or {}
        if current.get("id") and current.get("status") in RUNNING and current.get("query") == query:
            return str(current["id"])
        messages = "; ".join(str(e.get("message")) for e in payload["userErrors"] if isinstance(e, dict))
        raise UserErrors(f"bulk query refused: {messages}"[:500], payload["userErrors"])
    operation = payload.get("bulkOperation") or {}
    if not operation.get("id"):
        raise StoreUnavailable("bulk query: no operation in the answer")
    return str(operation["id"])


def status(client: AdminClient, operation_id: str) -> BulkStatus:
    node = client.execute(POLL, {"id": operation_id}).get("bulkOperation")
    if not isinstance(node, dict):
        raise BulkOperationFailed("bulk operation not found")
    found = BulkStatus(
        operation_id=operation_id,
        status=str(node.get("status") or ""),
        root_objects=int(node.get("rootObjectCount") or 0),
        url=node.get("url") or None,
        error_code=node.get("errorCode") or None,
    )
    if not found.running and found.status != DONE:
        raise BulkOperationFailed(f"bulk operation {found.status.lower()}: {found.error_code or 'no error code'}")
    return found


def download(url: str, timeout: float = DOWNLOAD_TIMEOUT_SECONDS) -> Iterator[bytes]:
    """The result file's lines, streamed."""
    try:
        response = requests.get(url, stream=True, timeout=timeout)
    except requests.RequestException as exc:
        raise StoreUnavailable(f"bulk result: {type(exc).__name__}") from None
    if response.status_code >= 400:
        response.close()
        # An expired signed URL answers 403: the operation must be run again.
        failure = StoreUnavailable if response.status_code >= 500 else BulkOperationFailed
        raise failure(f"bulk result: HTTP {response.status_code}")
    with response:
        try:
            yield from (line for line in response.iter_lines(chunk_size=DOWNLOAD_PIECE_BYTES) if line)
        except requests.RequestException as exc:
            raise StoreUnavailable(f"bulk result: {type(exc).__name__}") from None


def root_objects(lines: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """Each top-level object with its nested connections' objects gathered under `__children`, a list per
    type name of their gid ("LineItem": [...]), in file order."""
    current: dict[str, Any] | None = None
    for line in lines:
        try:
            item = loads(line)  # json.loads's object, by orjson where that is the same (connectors/decoding.py)
        except ValueError:
            raise StoreUnavailable("bulk result: a line is not JSON") from None
        if not isinstance(item, dict):
            raise StoreUnavailable("bulk result: a line is not an object")
        parent = item.pop("__parentId", None)
        if parent is None:
            if current is not None:
                yield current
            item["__children"] = {}  # the decoded line is ours: gathered onto, not copied (its keys' order kept)
            current = item
        elif current is not None and parent == current.get("id"):
            kind = str(item.get("id") or "").removeprefix("gid://shopify/").split("/", 1)[0] or "Unknown"
            current["__children"].setdefault(kind, []).append(item)
        else:
            raise StoreUnavailable("bulk result: a child line before its parent")
    if current is not None:
        yield current
