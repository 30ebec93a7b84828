"""Blueprint: POST /webhooks/<platform>: verify, store, enqueue, 200."""

from flask import Blueprint, Flask

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def init_app(app: Flask) -> None:
    from app.inbox import routes  # noqa: F401  (registers the views on bp)
    from app.inbox.door import WebhookDoor

    app.register_blueprint(bp)
    # The hot path: the door answers POSTs to the two webhook paths before Flask (see door.py).
    app.wsgi_app = WebhookDoor(app, app.wsgi_app)  # type: ignore[method-assign]
