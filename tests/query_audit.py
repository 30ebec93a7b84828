"""The query log check (issue 25, "Past one machine"): every SQL statement the app issues names its store.

On for every run on PostgreSQL (TEST_DATABASE_URL set: CI's first pass), off on SQLite; PPE_QUERY_AUDIT=1 or 0
forces it either way. Every statement any engine of this process sends (SQLAlchemy's `before_cursor_execute`, on
the Engine class: the test app's engine and any other) is classified once per distinct SQL text
(tests/distribution.py:classify) and, when it touches a store-scoped table, attributed to the code that issued it
by walking the stack:
- issued by tests/ or migrations/ code (fixtures, assertions, reset_state, Alembic): not the app's, ignored;
- issued by app/ or connectors/ code: checked. A statement on a store-scoped table with no store_id filter at
  all fails the test that ran it (the message names the statement and the issuing function), unless the
  innermost app function on its stack is a named cross-store scan (distribution.CROSS_STORE_SCANS, each with
  its reason);
- a job that reads its row by the id it was given (distribution.JOBS_BY_ID) is counted apart;
- the ORM's own statements by primary key (the unit of work's UPDATE/DELETE of a loaded row, a lazy or selectin
  load, the refresh of an expired attribute) are counted apart: they follow a row already read within its store,
  and they name the row by id alone: the primary keys include store_id (migration 0033), the ORM's identity does
  not (app/platform/store_keys.StoreRow);
- a statement filtered by store_id on one table but joining another on its id only is counted apart too: safe
  (the join follows a foreign key within the store) but, for Citus, a join that is not on the distribution
  column.
The report (PPE_QUERY_AUDIT_REPORT, default tests/artifacts/query-audit.json) lists every kind with
counts and the issuing functions. Processes the suite starts (end-to-end tests' web and workers) are not seen.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from tests import distribution

ROOT = Path(__file__).resolve().parent.parent
_APP_DIRS = (str(ROOT / "app") + os.sep, str(ROOT / "connectors") + os.sep)
_IGNORED_DIRS = (str(ROOT / "tests") + os.sep, str(ROOT / "migrations") + os.sep)
# The ORM's statements by primary key, by the SQLAlchemy module and function that issue them.
_ORM_BY_PK = {
    ("persistence.py", "_emit_update_statements"),
    ("persistence.py", "_emit_delete_statements"),
    ("persistence.py", "_emit_post_update_statements"),
    ("strategies.py", "_emit_lazyload"),
    ("strategies.py", "_load_for_path"),  # selectinload
    ("loading.py", "load_scalar_attributes"),  # an expired attribute's refresh
}


class Audit:
    def __init__(self) -> None:
        self.verdicts: dict[str, distribution.Verdict] = {}
        self.counts: Counter[str] = Counter()
        # kind -> (origin, sql) -> count
        self.seen: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
        # an unscoped statement -> the first test that ran it; and those the running test issued, to fail it
        self.first_test: dict[tuple[str, str], str] = {}
        self.test: str = ""
        self.pending: list[tuple[str, str]] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        verdict = self.verdicts.get(statement)
        if verdict is None:
            verdict = self.verdicts[statement] = distribution.classify(statement)
        if verdict.kind in ("scoped", "global"):
            self.counts[verdict.kind] += 1
            return
        frame = sys._getframe(1)
        origin, orm, allowed = _attribute(frame)
        if origin is None:
            self.counts["tests"] += 1
            return
        kind = verdict.kind
        if kind == "unscoped":
            if allowed:
                kind = "cross_store_scan"
            elif orm:
                kind = "orm_by_pk"
            elif origin in distribution.JOBS_BY_ID:
                kind = "job_by_id"
        self.counts[kind] += 1
        key = (allowed or origin, _shape(statement))
        self.seen[kind][key] += 1
        if kind == "unscoped":
            self.first_test.setdefault(key, self.test)
            if key not in self.pending:
                self.pending.append(key)

    def report(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "kinds": {
                kind: [
                    {
                        "origin": o,
                        "sql": s,
                        "count": n,
                        **({"test": self.first_test[o, s]} if kind == "unscoped" else {}),
                    }
                    for (o, s), n in seen.most_common()
                ]
                for kind, seen in sorted(self.seen.items())
            },
            "allowed_unused": sorted(
                set(distribution.CROSS_STORE_SCANS) - {o for o, _ in self.seen.get("cross_store_scan", {})}
            ),
        }


def _attribute(frame: FrameType | None) -> tuple[str | None, bool, str | None]:
    """(the innermost app function, or None when tests/ code issued it; whether the ORM issued it by primary
    key; that function when it is a named cross-store scan)."""
    orm = False
    while frame is not None:
        path = frame.f_code.co_filename
        if path.startswith(_APP_DIRS):
            origin = f"{_module(path)}:{frame.f_code.co_qualname}"
            # The innermost app function only: a listed scan's callees are not scans by extension.
            return origin, orm, origin if origin in distribution.CROSS_STORE_SCANS else None
        if path.startswith(_IGNORED_DIRS):
            return None, False, None
        if (os.path.basename(path), frame.f_code.co_name) in _ORM_BY_PK:
            orm = True
        frame = frame.f_back
    return None, False, None


def _shape(statement: str) -> str:
    """The statement in one line, its IN lists of any length as one (one entry per query, not per batch size)
    and its long column lists cut to their first column, so that its FROM and WHERE show."""
    one_line = _IN_LIST.sub("(?...)", " ".join(statement.split()))
    return _COLUMNS.sub(lambda m: f"SELECT {m[1]}, ... FROM " if len(m[0]) > 120 else m[0], one_line)[:1000]


_PARAM = r"(?:\?|%\(\w+\)s(?:::[A-Z ]+)?|\$\d+)"  # SQLite's, psycopg's (with PostgreSQL's cast) and asyncpg's
_IN_LIST = re.compile(rf"\({_PARAM}(?:, {_PARAM})*\)")
_COLUMNS = re.compile(r"SELECT ([^,()]+(?:\([^()]*\))?[^,]*?), (?:(?!\bFROM\b).)+? FROM ")


def _module(path: str) -> str:
    return os.path.relpath(path, ROOT)[: -len(".py")].replace(os.sep, ".")


@contextmanager
def audited() -> Iterator[Audit]:
    """An audit of the statements the app's engine sends within the block, whichever the backend: a test's own
    check of what one piece of code issues (the run's audit, on PostgreSQL, fails only the unscoped ones)."""
    from sqlalchemy import event

    from app.extensions import db

    audit = Audit()
    event.listen(db.engine, "before_cursor_execute", audit)
    try:
        yield audit
    finally:
        event.remove(db.engine, "before_cursor_execute", audit)


def origins(audit: Audit, kind: str) -> set[str]:
    """The functions that issued statements of this kind (distribution.classify's, or the audit's own)."""
    return {row["origin"] for row in audit.report()["kinds"].get(kind, [])}


_audit: Audit | None = None


def enabled() -> bool:
    """On PostgreSQL by default (CI's first pass, .ci/run); PPE_QUERY_AUDIT=1 or 0 decides when set."""
    flag = os.environ.get("PPE_QUERY_AUDIT")
    return flag == "1" if flag is not None else bool(os.environ.get("TEST_DATABASE_URL"))


def pytest_configure(config: pytest.Config) -> None:
    global _audit
    if not enabled():
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    _audit = Audit()
    event.listen(Engine, "before_cursor_execute", _audit)


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    if _audit is not None:
        _audit.test = nodeid
        _audit.pending.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A phase (setup, call, teardown) that issued an unscoped statement fails, its message naming it."""
    outcome = yield
    if _audit is None or not _audit.pending:
        return
    report = outcome.get_result()
    message = "\n".join(_explain(origin, sql) for origin, sql in _audit.pending)
    _audit.pending.clear()
    if report.passed:
        report.outcome = "failed"
        report.longrepr = message
    else:
        report.sections.append(("query audit", message))


def _explain(origin: str, sql: str) -> str:
    return (
        f"query audit: {origin} issued a statement on a store-scoped table with no store_id filter:\n    {sql}\n"
        "  Filter it by its store (platform/sql.get_in_store for a get by id); a genuine cross-store scan goes in "
        "tests/distribution.py:CROSS_STORE_SCANS with its reason."
    )


def _write() -> tuple[dict[str, Any], Path]:
    assert _audit is not None
    report = _audit.report()
    path = Path(os.environ.get("PPE_QUERY_AUDIT_REPORT", ROOT / "tests" / "artifacts" / "query-audit.json"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1))
    return report, path


_finished = 0


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """The report so far, every 100 tests: a run stopped short (killed, timed out) still leaves one."""
    global _finished
    if _audit is not None:
        _finished += 1
        if _finished % 100 == 0:
            _write()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _audit is None:
        return
    report, path = _write()
    unscoped = report["kinds"].get("unscoped", [])
    writer = session.config.pluginmanager.get_plugin("terminalreporter")
    if writer is not None:
        writer.write_line(f"query audit: {report['counts']} (report: {path})")
        for row in unscoped[:30]:
            writer.write_line(
                f"  UNSCOPED x{row['count']} {row['origin']} (first in {row['test']}): {row['sql'][:200]}"
            )
    if unscoped and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
