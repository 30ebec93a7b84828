"""Logging: one line per event on stderr, JSON objects in production, `key=value` text in development.

Events are logged as a name and fields (`log.warning("catalog.fetch_failed", extra={"store_id": ..., "reason":
...})`); the formatter writes every field the call passed, so a warning's reason and the ids needed to act on it
(store, delivery, job, request) reach the operator. Fields never carry personal data or secrets: ids, counts,
exception class names and our own reason strings only (tests/test_schema_and_cli.py guards it).

One handler, on the root logger, installed once per process (a second create_app replaces it). RQ's worker
installs handlers of its own on the `rq.worker` logger when it starts (rq/logutils.py, setup_loghandlers: only if
no handler is in effect yet, and the worker starts before its first job builds our app); a record there then
reached both those handlers and ours through propagation, so every RQ line was printed twice. Configuring removes
RQ's handlers and leaves its records to ours.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from flask import Flask

#: LogRecord's own attributes: everything else on a record came from `extra`.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}
#: Loggers of libraries that install handlers of their own (RQ's worker, its scheduler and pool).
_OWN_HANDLERS = ("rq.worker", "rq.job", "rq.scheduler", "rq.worker_pool", "rq.cron")


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a call passed in `extra`."""
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD and not key.startswith("_")}


def _timestamp(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "event", ...fields, "exception"}: one line, whatever the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        line.update(fields(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`2026-12-06T22:00:00.000Z WARNING app.records.catalog_tasks catalog.fetch_failed store_id=3 reason=...`."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_timestamp(record), record.levelname, record.name, record.getMessage()]
        parts.extend(f"{key}={_text(value)}" for key, value in fields(record).items())
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, separators=(",", ":"))
    return json.dumps(text) if not text or any(c in text for c in ' "=\n') else text


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """Writes to the sys.stderr of the moment (a test runner swaps it), as logging.lastResort does."""

    _ppe = True  # ours: replaced, never duplicated, when the app is configured again

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure(app: Flask) -> None:
    """Install the one handler (not under TESTING: pytest's capture handlers collect the records there)."""
    root = logging.getLogger()
    root.setLevel(app.config.get("LOG_LEVEL") or "INFO")
    for name in _OWN_HANDLERS:
        own = logging.getLogger(name)
        for handler in list(own.handlers):
            own.removeHandler(handler)
        own.propagate = True
    if app.testing:
        return
    for handler in [h for h in root.handlers if getattr(h, "_ppe", False)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if app.config.get("LOG_FORMAT") == "json" else TextFormatter())
    root.addHandler(handler)


def reason(exc: BaseException) -> str:
    """A warning's reason from an exception: its class and the first line of its message, at most 200 characters.
    For our own errors and the connectors', Redis's and the database driver's, whose messages name the failure
    (a status, a host, an error code), never a payload; not for exceptions that may quote one (a payload's
    parse error carries only its class: inbox/processing.py)."""
    message = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
