"""The referral programme: codes, the friend's landing and discount, attribution, fraud checks, rewards."""

from flask import Flask


def init_app(app: Flask) -> None:
    from app.referrals import landing

    landing.init_app(app)
