"""The review programme. The blueprint here serves the review form behind one-click star links (/r/...) and
review photos (/r/photos/...).

The widget's JSON endpoint (POST /reviews) and the public reading API (/products/<id>/reviews[/summary]) are
storefront routes (storefront.py): the store is named by the storefront's public key (`ppk_...`), a WooCommerce
customer token or the Shopify app proxy, like every widget call. The reviews' admin views are in admin.py.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from flask import Blueprint, Flask, current_app

from app.reviews.storage import LocalPhotoStorage, PhotoStorage

# template_folder: the dashboard page's templates (templates/reviews/), found by Flask's loader.
bp = Blueprint("reviews", __name__, template_folder="templates")


def photo_storage() -> PhotoStorage:
    """The configured backend (REVIEW_PHOTO_STORAGE: disk, the default, or s3), built once per app."""
    storage = current_app.extensions.get("review_photos")
    if storage is None:
        if current_app.config.get("REVIEW_PHOTO_STORAGE", "disk") == "s3":
            from app.reviews.storage_s3 import s3_storage_from_config  # boto3 is imported only when used

            storage = s3_storage_from_config(current_app.config)
        else:
            root = current_app.config.get("REVIEW_PHOTO_DIR") or f"{current_app.instance_path}/review_photos"
            storage = LocalPhotoStorage(root)
        current_app.extensions["review_photos"] = storage
    return storage


def init_app(app: Flask) -> None:
    from app import scheduler
    from app.messaging.api import register_templates
    from app.platform.metrics import register_outbox
    from app.records import followers
    from app.reviews.cli import reviews_cli
    from app.reviews.follower import ReviewFollower
    from app.reviews.models import ReviewPublication
    from app.reviews.models.publication import PENDING
    from app.reviews.publishing_tasks import schedule_review_publishing
    from app.reviews.tasks import schedule_review_requests

    # Its messages' templates (app/reviews/templates/), rendered by messaging in the recipient's language.
    register_templates(
        Path(__file__).resolve().parent / "templates",
        ("review_request", "review_reminder"),
    )

    # Its views first: they go on the admin and storefront blueprints, which register after the features.
    for views in ("admin", "form", "order_page", "storefront", "dashboard", "dashboard_pages"):
        importlib.import_module(f"app.reviews.{views}")
    importlib.import_module("app.reviews.dashboard_programme").register()  # its section of the Programmes page
    app.register_blueprint(bp)
    app.cli.add_command(reviews_cli)
    followers.register(ReviewFollower())
    scheduler.register_step(schedule_review_requests, phase="programmes")  # requests and reminders due
    scheduler.register_step(schedule_review_publishing, phase="delivery")  # reviews written back to the stores
    register_outbox("review_publication", ReviewPublication, ReviewPublication.status == PENDING)
