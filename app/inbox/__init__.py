"""Blueprint: POST /webhooks/<platform>: verify, store, enqueue, 200."""

from flask import Blueprint, Flask

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def init_app(app: Flask) -> None:
    # Imported for what they register: the views on bp; `flask woocommerce disconnect` and the plugin's status
    # and disconnect calls on the stores' blueprints.
    from app.inbox import cli, routes, woo_plugin_calls  # noqa: F401
    from app.inbox.door import WebhookDoor
    from app.inbox.lag import collect
    from app.inbox.woo_upkeep import enqueue_registration
    from app.platform.metrics import register_collector
    from app.stores.woo_connect import register_connected_hook

    app.register_blueprint(bp)
    register_collector(collect)  # inbox depth and age per store, read at each /metrics scrape
    register_connected_hook(enqueue_registration)  # a connected WooCommerce store gets our webhooks
    # The hot path: the door answers POSTs to the two webhook paths before Flask (see door.py).
    app.wsgi_app = WebhookDoor(app, app.wsgi_app)  # type: ignore[method-assign]
