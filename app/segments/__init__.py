"""Customer segments (issue 24): the built-in lifecycle (new, repeat, VIP, at risk, lapsed) measured against each
store's own purchase rhythm, and the merchant's own segments from simple conditions. Membership is a predicate over
the customer record the pipeline keeps current, evaluated when asked (SQL for sizes and members, Python for one
customer), so it is current as orders arrive and as time passes, with no nightly rescan. docs/segments.md.
"""

from __future__ import annotations

import importlib

from flask import Flask


def init_app(app: Flask) -> None:
    from app import scheduler
    from app.segments.cli import segments_cli
    from app.segments.tasks import schedule_rhythms

    importlib.import_module("app.segments.admin")  # its views go on the admin blueprint, registered after features
    app.cli.add_command(segments_cli)
    scheduler.register_step(schedule_rhythms, phase="programmes")
