"""The referral programme: codes, the friend's landing and discount, attribution, fraud checks, rewards."""

from flask import Flask


def init_app(app: Flask) -> None:
    from app import scheduler
    from app.records import followers
    from app.referrals import admin, landing, storefront, tasks  # noqa: F401  (admin, storefront: their views)
    from app.referrals.cli import referrals_cli
    from app.referrals.follower import ReferralFollower

    landing.init_app(app)
    followers.register(ReferralFollower())
    scheduler.register_step(tasks.tick, phase="programmes")  # due referrals rewarded
    app.cli.add_command(referrals_cli)
