"""Where the history import's orders phase spends its time, statement by statement (`--statements`).

pg_stat_statements needs `shared_preload_libraries` (a server restart on the shared machine), so the times are
taken in the bench's own process: psycopg's Cursor.execute and Cursor.copy are wrapped (every statement of the
import goes through them: SQLAlchemy's and the bulk path's raw cursor alike) and timed by kind (the statement's
first words; the bulk path's named statements by the constant they are). A statement runs synchronously, so its
time is PostgreSQL's work plus one round trip; a COPY's includes building its rows in Python. Beside it, the CPU
seconds of the database's own backends (/proc/<pid>/stat, Linux), against the bench process's.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .cpu import _stat

TIMES: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])  # calls, seconds, the backend's CPU seconds


def _backend_cpu(connection: Any) -> float:
    """The CPU seconds so far of this connection's backend (clock ticks: summed over many calls, a fair split)."""
    found = _stat(str(connection.info.backend_pid))
    return found[2] if found is not None else 0.0


def _add(kind: str, started: float, cpu: float, connection: Any) -> None:
    entry = TIMES[kind]
    entry[0] += 1
    entry[1] += time.perf_counter() - started
    entry[2] += _backend_cpu(connection) - cpu


def _names() -> dict[str, str]:
    from app.inbox import history_bulk_sql as sql

    return {
        " ".join(value.split())[:80]: name
        for name, value in vars(sql).items()
        if name.isupper() and isinstance(value, str) and len(value) > 40
    }


_NAMED: dict[str, str] = {}


def _kind(query: Any) -> str:
    text = query if isinstance(query, str) else getattr(query, "as_string", lambda _: str(query))(None)
    flat = " ".join(str(text).split())
    if not _NAMED:
        _NAMED.update(_names())
    name = _NAMED.get(flat[:80])
    if name:
        return name
    flat = re.sub(r"%\(\w+\)s|\$\d+|%s", "?", flat)
    if flat.startswith(("INSERT", "UPDATE", "DELETE")):
        match = re.match(r"(INSERT INTO|UPDATE|DELETE FROM) (\w+)", flat)
        return f"{match.group(1).split()[0]} {match.group(2)}" if match else flat[:40]
    if flat.startswith("SELECT"):
        match = re.search(r" FROM (\w+)", flat)
        return f"SELECT {match.group(1) if match else flat[7:40]}"
    return flat[:48]


def install() -> None:
    import psycopg

    execute, copy = psycopg.Cursor.execute, psycopg.Cursor.copy

    def timed_execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        started, cpu = time.perf_counter(), _backend_cpu(self.connection)
        try:
            return execute(self, query, *args, **kwargs)
        finally:
            _add(_kind(query), started, cpu, self.connection)

    @contextmanager
    def timed_copy(self: Any, statement: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        started, cpu = time.perf_counter(), _backend_cpu(self.connection)
        try:
            with copy(self, statement, *args, **kwargs) as inside:
                yield inside
        finally:
            _add(" ".join(str(statement).split()[:2]), started, cpu, self.connection)

    commit = psycopg.Connection.commit

    def timed_commit(self: Any) -> None:
        started, cpu = time.perf_counter(), _backend_cpu(self)
        try:
            commit(self)
        finally:
            _add("COMMIT", started, cpu, self)

    psycopg.Connection.commit = timed_commit  # type: ignore[method-assign]
    psycopg.Cursor.execute = timed_execute  # type: ignore[method-assign]
    psycopg.Cursor.copy = timed_copy  # type: ignore[method-assign,assignment]


def snapshot() -> dict[str, tuple[int, float, float]]:
    return {kind: (int(n), s, c) for kind, (n, s, c) in TIMES.items()}


def backends_cpu(url: str) -> float:
    """CPU seconds so far of the PostgreSQL backends connected to the bench's database (this reader's excluded)."""
    import psycopg

    with psycopg.connect(url) as conn:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
    return sum(found[2] for pid in pids if (found := _stat(str(pid))) is not None)


def table(
    before: dict[str, tuple[int, float, float]], after: dict[str, tuple[int, float, float]], orders: int
) -> list[str]:
    """Per statement kind: calls, wall ms, the backend's CPU ms, both per order (us), largest wall first."""
    rows = []
    for kind, (n, seconds, cpu) in after.items():
        n0, s0, c0 = before.get(kind, (0, 0.0, 0.0))
        if seconds - s0 > 0.005:
            rows.append((seconds - s0, cpu - c0, n - n0, kind))
    rows.sort(reverse=True)
    per = 1e6 / max(orders, 1)
    lines = [f"{'statement':44} {'calls':>6} {'wall ms':>8} {'us/order':>8} {'pg cpu ms':>9} {'us/order':>8}"]
    lines += [f"{k[:44]:44} {n:6d} {s * 1e3:8.0f} {s * per:8.1f} {c * 1e3:9.0f} {c * per:8.1f}" for s, c, n, k in rows]
    wall, cpu = sum(r[0] for r in rows), sum(r[1] for r in rows)
    lines.append(f"{'all statements':44} {'':6} {wall * 1e3:8.0f} {wall * per:8.1f} {cpu * 1e3:9.0f} {cpu * per:8.1f}")
    return lines
