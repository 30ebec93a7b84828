"""Campaigns (issue 24): a segment as the audience of a marketing message, one-off or recurring, sent exactly once
per customer per run through messaging's send_to_customer (marketing consent, quiet hours, the daily cap), in
batches of RQ jobs; a win-back's coupon made per customer in the store. docs/campaigns.md.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from flask import Flask

TEMPLATE_NAMES = ("campaign_win_back", "campaign_thanks", "campaign_text")


def init_app(app: Flask) -> None:
    from app import scheduler
    from app.campaigns.tasks import tick
    from app.messaging.api import register_templates

    register_templates(Path(__file__).resolve().parent / "templates", TEMPLATE_NAMES)
    importlib.import_module("app.campaigns.admin")  # its views go on the admin blueprint, registered after features
    scheduler.register_step(tick, phase="programmes")
