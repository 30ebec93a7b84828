"""Post-delivery surveys with a "get help" fork (issue 24): one NPS or CSAT question on the customer's channel a few
days after delivery, answered from the message (signed links), an optional comment, and what the answer leads
to: a promoter is asked for a review and shown their referral link; a detractor is offered help, the merchant
told at once and, if the store turned it on, a recovery case opened (app/recovery). docs/surveys.md.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from flask import Flask


def init_app(app: Flask) -> None:
    from app import scheduler
    from app.messaging.api import register_templates
    from app.records import followers
    from app.stores.settings import register_section
    from app.surveys.follower import SurveyFollower
    from app.surveys.page import bp
    from app.surveys.sending import send_due
    from app.surveys.settings import SECTION

    register_templates(Path(__file__).resolve().parent / "templates", ("survey_request",))
    register_section(SECTION)
    followers.register(SurveyFollower())
    scheduler.register_step(send_due, phase="programmes")
    importlib.import_module("app.surveys.storefront")  # the Thank-you page's question (before storefront.init_app)
    importlib.import_module("app.surveys.admin")  # its views go on the admin blueprint, registered after features
    app.register_blueprint(bp)
