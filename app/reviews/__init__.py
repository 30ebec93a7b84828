"""Blueprint: the review form behind one-click star links (/r/...), the widget's JSON endpoint
(POST /api/v1/reviews) and the public reading API (/api/v1/products/<id>/reviews[/summary]).

Storefront reads are identified by the store's public key (`public_key(store)`, shown to the merchant by
GET /admin/api/v1/reviews/public-key): a signed store id, not a secret, which only selects whose published
reviews are read. The storefront auth feature (app/storefront/) will take these views over later.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app

from .storage import LocalPhotoStorage, PhotoStorage

bp = Blueprint("reviews", __name__)


def photo_storage() -> PhotoStorage:
    storage = current_app.extensions.get("review_photos")
    if storage is None:
        root = current_app.config.get("REVIEW_PHOTO_DIR") or f"{current_app.instance_path}/review_photos"
        storage = current_app.extensions["review_photos"] = LocalPhotoStorage(root)
    return storage


def init_app(app: Flask) -> None:
    from . import api, form  # noqa: F401  (registers the views; admin.py is registered by app/admin)

    app.register_blueprint(bp)
