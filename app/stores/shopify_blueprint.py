"""Blueprint: installing from the app stores (Shopify OAuth and token exchange under /shopify/...)."""

from flask import Blueprint, Flask

bp = Blueprint("install", __name__)


def init_app(app: Flask) -> None:
    from app.stores import shopify_install as shopify  # noqa: F401  (registers the views on bp)

    app.register_blueprint(bp)
