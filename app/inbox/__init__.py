"""Blueprint: POST /webhooks/<platform>: verify, store, enqueue, 200."""

from flask import Blueprint, Flask

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def init_app(app: Flask) -> None:
    from app import scheduler

    # Imported for what they register: the views on bp; the commands; the plugin's status and disconnect calls
    # on the stores' blueprints; the history import's admin views.
    from app.inbox import cli, history_admin, history_cli, pipeline, routes, woo_plugin_calls  # noqa: F401
    from app.inbox.door import WebhookDoor
    from app.inbox.history_import import on_bulk_finished, on_installed, resume_stalled
    from app.inbox.lag import collect
    from app.inbox.woo_upkeep import enqueue_registration
    from app.platform.metrics import register_collector
    from app.stores.shopify_install import register_installed_hook
    from app.stores.woo_connect import register_connected_hook
    from connectors.events import BulkOperationFinished

    app.register_blueprint(bp)
    register_collector(collect)  # inbox depth and age per store, read at each /metrics scrape
    register_connected_hook(enqueue_registration)  # a connected WooCommerce store gets our webhooks
    register_connected_hook(on_installed)  # ... and its history imported (docs/history-import.md)
    register_installed_hook(on_installed)  # a Shopify store's too
    pipeline.on(BulkOperationFinished, on_bulk_finished, stage="after")  # the import waiting for it goes on
    scheduler.register_step(resume_stalled, phase="intake")  # imports whose job died, or that wait for Shopify
    # The hot path: the door answers POSTs to the two webhook paths before Flask (see door.py).
    app.wsgi_app = WebhookDoor(app, app.wsgi_app)  # type: ignore[method-assign]
