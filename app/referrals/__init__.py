"""The referral programme: codes, the friend's landing and discount, attribution, fraud checks, rewards."""

import importlib
from pathlib import Path

from flask import Flask


def init_app(app: Flask) -> None:
    from app import scheduler
    from app.messaging.api import register_templates
    from app.records import followers
    from app.referrals import landing, preload, tasks
    from app.referrals.cli import referrals_cli
    from app.referrals.follower import ReferralFollower

    # Its messages' templates (app/referrals/templates/), rendered by messaging in the recipient's language.
    register_templates(Path(__file__).resolve().parent / "templates", ("referral_reward_ready",))

    # Its views first: they go on the admin and storefront blueprints, which register after the features.
    for views in ("admin", "storefront", "dashboard", "dashboard_pages"):
        importlib.import_module(f"app.referrals.{views}")
    importlib.import_module("app.referrals.dashboard_programme").register()  # its section of the Programmes page
    landing.init_app(app)
    preload.install()  # referrals by order in the inbox batch's lookups
    followers.register(ReferralFollower())
    scheduler.register_step(tasks.tick, phase="programmes")  # due referrals rewarded
    app.cli.add_command(referrals_cli)
