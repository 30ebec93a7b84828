"""Service recovery: one mechanism any programme can open (DESIGN direction, "Recovery"): a case per order with
its reason, a single-use coupon created in the store, an apology on the customer's channel, the merchant told.

    open_case(session, store, *, order_id, customer_id, reason, source, now=None) -> RecoveryCase | None
        In the caller's transaction; once per (store, order) under concurrent workers (a unique key); None when
        the store's recovery is off or the order has nobody to apologise to. The delivery journey opens cases
        for late parcels (app/journeys/late.py); a survey or a 1-2 star review would open theirs the same way.
    get_settings(store) -> RecoverySettings: Store.settings["recovery"] as its reader applies it.

The coupon is created (and taken back on a refund or cancellation before use) by jobs the scheduler step claims
(tasks.py), through the store's client like the loyalty and referral codes. Docs: docs/delivery-and-recovery.md.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from flask import Flask

from app.recovery.models import REASONS, RecoveryCase
from app.recovery.service import open_case
from app.recovery.settings import RecoverySettings, get_settings

__all__ = ["REASONS", "RecoveryCase", "RecoverySettings", "get_settings", "init_app", "open_case"]


def init_app(app: Flask) -> None:
    from app import scheduler
    from app.messaging.api import register_templates
    from app.platform.metrics import register_outbox
    from app.records import followers
    from app.records.customers import MergeHook, register_merge_hook
    from app.recovery.cli import recovery_cli
    from app.recovery.follower import RecoveryFollower
    from app.recovery.models import DUE
    from app.recovery.service import move_guest
    from app.recovery.settings import SECTION
    from app.recovery.tasks import tick
    from app.stores.settings import register_section

    register_templates(Path(__file__).resolve().parent / "templates", ("recovery_apology",))
    importlib.import_module("app.recovery.admin")  # its views go on the admin blueprint, registered after features
    register_section(SECTION)
    app.cli.add_command(recovery_cli)
    followers.register(RecoveryFollower())
    register_merge_hook("recovery", MergeHook(move=move_guest))
    scheduler.register_step(tick, phase="delivery")  # coupons to create or take back
    register_outbox("recovery_case", RecoveryCase, RecoveryCase.status.in_(DUE))
