"""RQ jobs and the scheduler. Jobs take ids (never ORM objects) and are idempotent.

A job runs in a plain `rq worker` process, which has no Flask app: `job_app()`
builds one per process on first use, from the same environment as the web.
"""

from __future__ import annotations

from flask import Flask, current_app, has_app_context

_app: Flask | None = None


def job_app() -> Flask:
    global _app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _app is None:
        from app import create_app

        _app = create_app()
    return _app


def init_app(app: Flask) -> None:
    """Nothing to bind yet; kept so the factory reads as a list of init_app calls."""
