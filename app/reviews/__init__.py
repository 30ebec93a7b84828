"""Blueprint: the review form behind one-click star links (/r/...) and review photos (/r/photos/...).

The widget's JSON endpoint (POST /reviews) and the public reading API (/products/<id>/reviews[/summary]) are
storefront routes (api.py, imported by app/storefront/__init__.py): the store is named by the storefront's
public key (`ppk_...`), a WooCommerce customer token or the Shopify app proxy, like every widget call.
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
    from . import form  # noqa: F401  (registers the views; admin.py by app/admin, api.py by app/storefront)

    app.register_blueprint(bp)
