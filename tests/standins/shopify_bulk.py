"""The stand-in Shopify's bulk query operations: bulkOperationRunQuery, bulkOperation(id:), the JSONL file.

As Shopify does (https://shopify.dev/docs/api/usage/bulk-operations/queries): the inner query is parsed and
validated against the Admin schema (a bad one is a userError, not an operation), must select one top-level
connection, and one bulk query runs per shop at a time. The operation is CREATED, then RUNNING for
`polls_running` polls and until its work (a thread) is done, then COMPLETED with a `url`; the mutation answers
at once, as Shopify's does. The file is the query's selection of the shop's `customers` and `orders` (held as
Admin GraphQL objects; an order's `lineItems` a plain list here), one object per line, each nested connection's
objects on lines of their own with `__parentId`, directly below their parent (groupObjects: true).
Once validated, a query of plain fields, nested objects, lists and connections (what bulk queries are) is
written by `project` straight from the held objects, a line at a time: graphql-core's execute took over 13
minutes for 100,000 orders (bench/history_import.py). A query using anything else (fragments, aliases,
directives, __typename) is executed by graphql-core as before, so the stand-in never writes a shape it guessed
(tests/inbox/test_history_bulk.py compares both writers on the import's queries). The file is written to disk
line by line and served from there in pieces (a million orders' file is ~2 GB; the held records may be a
`Generated` list, made as the file is written: tests/standins/generated.py). An empty result has no file
(url null), as Shopify answers. Every inner query is kept in `queries`; `expire_files` makes the file URL answer
403, as an expired signed URL does. `prepared` holds files made before their operation was asked for, by inner
query (`prepare`: the bench's bulk files, made and cached before its timed window, bench/history_standins.py): an
operation for such a query serves that file as made, through the same CREATED, RUNNING, COMPLETED and URL.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import DocumentNode, FieldNode, GraphQLSchema, OperationDefinitionNode, execute, parse, validate

BULK_FIELDS = ("bulkOperationRunQuery", "bulkOperation", "currentBulkOperation")


@dataclass(frozen=True)
class Prepared:
    """A result file made before its operation was asked for (`prepare`); never removed by the stand-in."""

    path: Path
    objects: int  # lines
    roots: int  # top-level objects


@dataclass
class BulkState:
    customers: Sequence[dict[str, Any]] = field(default_factory=list)  # a list, or a Generated one
    orders: Sequence[dict[str, Any]] = field(default_factory=list)
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    spool: str | None = None  # the directory the files are written to (None: the system's temporary one)
    queries: list[str] = field(default_factory=list)
    prepared: dict[str, Prepared] = field(default_factory=dict)  # inner query: its file, made beforehand
    polls_running: int = 1
    expire_files: bool = False
    _ids: Any = field(default_factory=lambda: itertools.count(1))


def _connection(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"edges": [{"node": item} for item in items]}


def _held(order: dict[str, Any]) -> dict[str, Any]:
    """An order as graphql-core resolves it: its line items as the connection the schema names."""
    return {**order, "lineItems": _connection(order.get("lineItems") or [])}


def _is_connection(value: Any) -> bool:
    return isinstance(value, dict) and ("edges" in value or "nodes" in value)


def _nodes(value: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in value.get("edges") or []] + list(value.get("nodes") or [])


def jsonl(result: dict[str, Any]) -> bytes:
    """A bulk query's executed result as Shopify writes it: connections flattened into lines."""
    lines: list[str] = []

    def emit(node: dict[str, Any], parent: str | None) -> None:
        plain = {k: v for k, v in node.items() if not _is_connection(v)}
        if parent is not None:
            plain["__parentId"] = parent
        lines.append(json.dumps(plain))
        for value in node.values():
            if _is_connection(value):
                for child in _nodes(value):
                    emit(child, node.get("id"))

    for root in result.values():
        for node in _nodes(root):
            emit(node, None)
    return ("\n".join(lines) + "\n").encode() if lines else b""


#: A compiled selection: (field name, sub-selection or None for a leaf, whether it is a connection).
Selection = list[tuple[str, "Selection | None", bool]]


def selection(document: DocumentNode) -> Selection | None:
    """The query's selection as `project` walks it; None when it uses more than plain fields (execute then)."""
    operations = document.definitions
    if len(operations) != 1 or not isinstance(operations[0], OperationDefinitionNode):
        return None
    return _compile(operations[0].selection_set)


def _compile(selection_set: Any) -> Selection | None:
    compiled: Selection = []
    for node in selection_set.selections:
        if not isinstance(node, FieldNode) or node.alias or node.directives or node.name.value.startswith("__"):
            return None
        name = node.name.value
        if node.selection_set is None:
            compiled.append((name, None, False))
            continue
        inner = _compile(node.selection_set)
        if inner is None:
            return None
        names = [n for n, _, _ in inner]
        if names == ["edges"] and inner[0][1] is not None and [n for n, _, _ in inner[0][1]] == ["node"]:
            compiled.append((name, inner[0][1][0][1], True))  # edges { node { ... } }: a connection
        elif names == ["nodes"]:
            compiled.append((name, inner[0][1], True))
        else:
            compiled.append((name, inner, False))
    return compiled


def project(roots: dict[str, list[dict[str, Any]]], compiled: Selection) -> Any:
    """The JSONL lines (bytes) of the selection over the held objects, as `jsonl` writes an executed result."""
    for name, inner, _ in compiled:
        for node in roots.get(name) or []:
            yield from _lines(node, inner or [], None)


def _lines(node: dict[str, Any], compiled: Selection, parent: str | None) -> Any:
    plain = _plain(node, compiled)
    if parent is not None:
        plain["__parentId"] = parent
    yield json.dumps(plain).encode()
    for name, inner, connection in compiled:
        if connection:
            value = node.get(name)
            for child in _nodes(value) if isinstance(value, dict) else value or []:
                yield from _lines(child, inner or [], node.get("id"))


def _plain(node: dict[str, Any], compiled: Selection) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, inner, connection in compiled:
        if connection:
            continue
        value = node.get(name)
        if inner is None or value is None:
            out[name] = value
        elif isinstance(value, list):
            out[name] = [_plain(item, inner) for item in value]
        else:
            out[name] = _plain(value, inner)
    return out


def bulk_roots(state: BulkState, schema: GraphQLSchema, file_url: Any) -> dict[str, Any]:
    def run_query(info: Any, query: str, groupObjects: bool = True) -> dict[str, Any]:  # noqa: N803  (schema name)
        state.queries.append(query)
        try:
            document = parse(query)
        except Exception as exc:  # noqa: BLE001  (Shopify answers a userError for an unparsable query)
            return _refused(f"Invalid bulk query: {exc}")
        errors = validate(schema, document)
        if errors:
            return _refused("Invalid bulk query: " + "; ".join(e.message for e in errors))
        if any(op["status"] in ("CREATED", "RUNNING") for op in state.operations.values()):
            return _refused("A bulk query operation for this app and shop is already in progress: gid://...")
        number = next(state._ids)
        gid = f"gid://shopify/BulkOperation/{number}"
        op: dict[str, Any] = {"id": gid, "status": "CREATED", "polls": 0, "query": query, "grouped": groupObjects}
        state.operations[gid] = op

        def work() -> None:  # in the background, as Shopify runs it: the mutation answers at once
            made = state.prepared.get(query)
            if made is not None:
                path, written, roots, errors = made.path, made.objects, made.roots, None
            else:
                path, written, roots, errors = _made(state, schema, document)
                path = _owned(state, path)
            state.files[str(number)] = path
            op["rootObjectCount"] = roots
            op["objectCount"] = written
            op["url"] = file_url(str(number)) if written else None
            op["errorCode"] = "INTERNAL_SERVER_ERROR" if errors else None

        op["worker"] = threading.Thread(target=work, daemon=True)
        op["worker"].start()
        return {"bulkOperation": {"id": gid, "status": "CREATED"}, "userErrors": []}

    def current(info: Any, type: str = "QUERY") -> dict[str, Any] | None:  # noqa: A002  (the schema's argument)
        return operation(info, list(state.operations)[-1]) if state.operations else None

    def operation(info: Any, id: str) -> dict[str, Any] | None:  # noqa: A002  (the schema's argument)
        op = state.operations.get(id)
        if op is None:
            return None
        op["polls"] += 1
        if op["status"] not in ("COMPLETED", "FAILED"):
            finished = not op["worker"].is_alive() and op["polls"] > state.polls_running
            op["status"] = ("FAILED" if op["errorCode"] else "COMPLETED") if finished else "RUNNING"
        done = op["status"] == "COMPLETED"
        return {
            "id": op["id"],
            "status": op["status"],
            "errorCode": op.get("errorCode") if op["status"] == "FAILED" else None,
            "objectCount": str(op["objectCount"] if done else 0),
            "rootObjectCount": str(op["rootObjectCount"] if done else 0),
            "url": op["url"] if done else None,
            "partialDataUrl": None,
            "query": op["query"],
        }

    return {"bulkOperationRunQuery": run_query, "bulkOperation": operation, "currentBulkOperation": current}


def _made(
    state: BulkState, schema: GraphQLSchema, document: DocumentNode, directory: str | None = None
) -> tuple[Path, int, int, Any]:
    """The query's result file over the state's records: (its path, lines, top-level objects, errors)."""
    compiled = selection(document)
    if compiled is not None:
        held = {"customers": state.customers, "orders": state.orders}
        lines: Iterable[bytes] = project(held, compiled)
        roots, errors = sum(len(held.get(name) or []) for name, _, _ in compiled), None
    else:
        roots_value = {
            "customers": _connection(state.customers),
            "orders": _connection([_held(o) for o in state.orders]),
        }
        result = execute(schema, document, root_value=roots_value)
        data = result.data or {}
        lines, errors = jsonl(data).splitlines(), result.errors
        roots = sum(len(_nodes(v)) for v in data.values() if _is_connection(v))
    path, written = _write(state.spool if directory is None else directory, lines)
    return path, written, roots, errors


def prepare(state: BulkState, schema: GraphQLSchema, query: str, directory: str) -> Prepared:
    """The inner query's result file over the state's records, written into `directory` now and kept there (the
    caller owns it), to be served as made when an operation asks for this query."""
    path, written, roots, errors = _made(state, schema, parse(query), directory)
    if errors:
        raise ValueError(f"bulk query failed: {errors}")
    state.prepared[query] = Prepared(path, written, roots)
    return state.prepared[query]


def _refused(message: str) -> dict[str, Any]:
    return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": message}]}


def _write(directory: str | None, lines: Iterable[bytes]) -> tuple[Path, int]:
    """The lines written to a file of their own as they come: (its path, how many lines)."""
    handle, name = tempfile.mkstemp(prefix="standin-bulk-", suffix=".jsonl", dir=directory)
    written = 0
    with os.fdopen(handle, "wb", buffering=1 << 20) as out:
        for line in lines:
            out.write(line + b"\n")
            written += 1
    return Path(name), written


def _owned(state: BulkState, path: Path) -> Path:
    """The file goes with the state (or the process: the bench spools into a directory it removes)."""
    weakref.finalize(state, _remove, str(path))
    return path


def _remove(name: str) -> None:
    try:
        os.unlink(name)
    except FileNotFoundError:  # its directory went first
        pass


def _pieces(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        while piece := file.read(1 << 20):
            yield piece


def bulk_file(state: BulkState, name: str) -> tuple[int, bytes | Iterator[bytes]]:
    """GET of a result file: (status, body: the file read in pieces of 1 MB as it is sent); 403 once
    `expire_files` is set (an expired signed URL)."""
    if state.expire_files:
        return 403, b"<Error><Code>AccessDenied</Code></Error>"
    path = state.files.get(name)
    return (200, _pieces(path)) if path is not None else (404, b"")
