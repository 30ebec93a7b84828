"""Repeat-customer surprises (issue 24): the merchant picks order numbers (the customer's 2nd, 5th paid order) and
what each gives (a code for the next order: a percentage or an amount off, or free shipping; or points), with an
optional segment the customer must be in. Decided once per customer and threshold after the order is paid,
delivered on the customer's channel, taken back if the order that earned it is cancelled or refunded in full
before the code is used. docs/surprises.md.

Other features use it through api.py (a customer's surprises); its init_app registers the follower, the
scheduler step, the message template, the merge hook, the admin views and the dashboard's programme section.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from flask import Flask


def init_app(app: Flask) -> None:
    from app import scheduler
    from app.messaging.api import register_templates
    from app.platform.metrics import register_outbox
    from app.records import followers
    from app.records.customers import MergeHook, register_merge_hook
    from app.surprises.dashboard_programme import register
    from app.surprises.follower import SurpriseFollower
    from app.surprises.models import DUE, Surprise
    from app.surprises.service import move_guest
    from app.surprises.tasks import TEMPLATE, tick

    register_templates(Path(__file__).resolve().parent / "templates", (TEMPLATE,))
    importlib.import_module("app.surprises.admin")  # its views go on the admin blueprint, registered after features
    followers.register(SurpriseFollower())
    register_merge_hook("surprises", MergeHook(move=move_guest))
    scheduler.register_step(tick, phase="delivery")  # codes to create or take back, points to credit
    register_outbox("surprise", Surprise, Surprise.status.in_(DUE))
    register()
