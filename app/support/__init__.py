"""What shoppers send the merchant: get-help messages and low-rating alerts (and the programmes' alerts: a flagged
referral), stored first, then e-mailed.

Programmes call `record(session, store, ShopperMessage(...), now)` in the transaction that answers the shopper
(reviews: the get-help form, a 1-2 star review); `list_messages` pages them (the reviews dashboard shows the
latest low-rating alerts). The row is the merchant's record whatever happens to the e-mail:
listed in the admin API (admin.py) and `flask support` (cli.py) until marked handled. Its e-mail goes through the
messaging outbox to the notification list (settings.py) or the store's own e-mail; with neither, the scheduler
step (tasks.py) looks again until one exists. Erasure and guest merges: erasure.py. Docs: docs/reviews.md.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from flask import Flask

from app.support.models import FLAGGED_REFERRAL, HELP, LOW_RATING, RECOVERY, SupportMessage
from app.support.service import ShopperMessage, list_messages, record

__all__ = [
    "FLAGGED_REFERRAL",
    "HELP",
    "LOW_RATING",
    "RECOVERY",
    "ShopperMessage",
    "SupportMessage",
    "init_app",
    "list_messages",
    "record",
]


def init_app(app: Flask) -> None:
    from app import scheduler
    from app.compliance.api import PERSONAL_DATA, register_erasure_hook, register_personal_data
    from app.messaging.api import register_templates
    from app.records.customers import register_merge_hook
    from app.stores.settings import register_section
    from app.support.cli import support_cli
    from app.support.erasure import MERGE_HOOK, erase_support_messages
    from app.support.settings import SECTION, SUPPORT_SECTION
    from app.support.tasks import notify_waiting

    # The merchant e-mails' templates (app/support/templates/), rendered by messaging.
    register_templates(
        Path(__file__).resolve().parent / "templates",
        ("merchant_help_request", "merchant_low_rating_alert", "merchant_recovery_case", "merchant_flagged_referral"),
    )
    register_section(SUPPORT_SECTION)  # the notification list (also PATCH /support/settings)
    register_section(SECTION)  # the alert recipients per kind: PATCH /store/settings, the dashboard's settings page
    importlib.import_module("app.support.admin")  # its views go on the admin blueprint, registered after features
    scheduler.register_step(notify_waiting, phase="programmes")  # messages waiting for an address, looked at again
    register_merge_hook("support", MERGE_HOOK)
    register_erasure_hook(erase_support_messages)
    if not any(item.model is SupportMessage for item in PERSONAL_DATA):  # create_app runs more than once
        register_personal_data(SupportMessage, ("body",))
    app.cli.add_command(support_cli)
