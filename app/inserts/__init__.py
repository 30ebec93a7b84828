"""Printed product inserts: a personal card for the parcel, in the customer's language, with the store's look, a QR
code to the order's review page and the customer's referral link (issue 24).

    flask inserts order <store> <order id> -o card.pdf      one A6 card
    flask inserts day <store> [--date YYYY-MM-DD] -o day.pdf the day's orders, four A6 cards per A4 sheet
    GET /admin/api/v1/inserts/orders/<order id>.pdf         the same, for the merchant's admin
    GET /admin/api/v1/inserts/day.pdf?date=YYYY-MM-DD

It writes nothing but a customer's referral code the first time one is printed (referrals draws it). docs/inserts.md.
"""

from __future__ import annotations

import importlib

from flask import Flask


def init_app(app: Flask) -> None:
    from app.inserts.cli import inserts_cli

    importlib.import_module("app.inserts.admin")  # its views go on the admin blueprint, registered after features
    app.cli.add_command(inserts_cli)
