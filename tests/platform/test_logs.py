"""platform/logs.py: one handler per process whatever RQ installed first, and the fields of every event written out."""

from __future__ import annotations

import io
import json
import logging
from contextlib import redirect_stderr, redirect_stdout

from flask import Flask
from rq.logutils import setup_loghandlers

from app.platform.logs import JsonFormatter, TextFormatter, configure, reason


def _app(log_format: str) -> Flask:
    app = Flask("logs-test")
    app.config.update(LOG_FORMAT=log_format, LOG_LEVEL="INFO")
    return app


def test_an_rq_line_is_written_once_after_rq_installed_its_own_handlers():
    root, rq_log = logging.getLogger(), logging.getLogger("rq.worker")
    saved = (list(root.handlers), root.level, list(rq_log.handlers), rq_log.propagate)
    try:
        for handler in list(root.handlers):  # a bare process: no handler yet, as when `rq worker` starts
            root.removeHandler(handler)
        output = io.StringIO()  # the process's stdout and stderr, where RQ's handlers and ours write
        with redirect_stdout(output), redirect_stderr(output):
            setup_loghandlers("INFO", name="rq.worker")  # what the rq command line does before our app exists
            assert rq_log.handlers
            configure(_app("json"))
            rq_log.info("webhooks: Job OK (%s)", "job-1")
        lines = output.getvalue().splitlines()
        assert [json.loads(line)["event"] for line in lines] == ["webhooks: Job OK (job-1)"]
        configure(_app("json"))  # a second app in the process replaces the handler, never adds one
        stderr = io.StringIO()
        with redirect_stderr(stderr):
            rq_log.info("again")
        assert len(stderr.getvalue().splitlines()) == 1
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        for handler in list(rq_log.handlers):
            rq_log.removeHandler(handler)
        for handler in saved[2]:
            rq_log.addHandler(handler)
        rq_log.propagate = saved[3]


def _record(**extra) -> logging.LogRecord:
    record = logging.LogRecord(
        "app.records.catalog_tasks", logging.WARNING, __file__, 1, "catalog.fetch_failed", (), None
    )
    record.__dict__.update(extra)
    return record


def test_the_fields_a_call_passed_are_written_in_both_formats():
    record = _record(store_id=3, request_id=9, reason="StoreUnavailable: Admin API unreachable")
    line = json.loads(JsonFormatter().format(record))
    assert (line["level"], line["event"], line["store_id"], line["request_id"]) == (
        "warning",
        "catalog.fetch_failed",
        3,
        9,
    )
    assert line["reason"] == "StoreUnavailable: Admin API unreachable"
    text = TextFormatter().format(record)
    assert "\n" not in text
    assert text.split(" ", 3)[1:3] == ["WARNING", "app.records.catalog_tasks"]
    assert text.endswith(
        'catalog.fetch_failed store_id=3 request_id=9 reason="StoreUnavailable: Admin API unreachable"'
    )


def test_a_reason_is_the_class_and_the_first_line_only():
    assert reason(ConnectionError("refused\nsecond line with details")) == "ConnectionError: refused"
    assert reason(TimeoutError()) == "TimeoutError"
    assert len(reason(ValueError("x" * 500))) == len("ValueError: ") + 200


def test_no_log_call_passes_a_field_named_like_a_log_records_own_attribute():
    """logging raises KeyError for an `extra` key that a LogRecord already has ("created", "name", ...): the
    job that logs it fails. A static scan of every `extra={...}` in app/ (one line or several)."""
    import re
    from pathlib import Path

    reserved = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
    found = []
    for path in Path(__file__).resolve().parents[2].joinpath("app").rglob("*.py"):
        text = path.read_text()
        for match in re.finditer(r"extra=\{(.*?)\}", text, re.S):
            for key in re.findall(r"\"([A-Za-z_]+)\":", match.group(1)):
                if key in reserved:
                    found.append(f"{path.name}: {key}")
    assert found == []
