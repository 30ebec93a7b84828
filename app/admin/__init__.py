"""Blueprint: the merchant's JSON admin API under /admin/api/v1 (the dashboard and scripts call it).

Every view is wrapped by auth.merchant_required, which resolves the one store the caller speaks for; views
never take a store id from the request, so no store's data is reachable with another store's credentials.
Features add their views to `bp` from their own admin modules, imported by their init_app. A domain error a
view lets through (app/errors.py) is answered by `_app_error`: views do not map errors to answers themselves.
"""

from flask import Blueprint, Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from app.errors import AppError
from app.extensions import db

# template_folder: the audit log's dashboard page (templates/admin/, dashboard_pages.py).
bp = Blueprint("admin", __name__, url_prefix="/admin/api/v1", template_folder="templates")


@bp.errorhandler(HTTPException)
def _json_error(exc: HTTPException) -> tuple[Response, int]:
    """Scripts and the dashboard read JSON, also when a request is refused (bad JSON, too large, ...)."""
    return jsonify(error=(exc.name or "error").lower().replace(" ", "_"), message=exc.description), exc.code or 500


def _app_error(exc: AppError) -> tuple[Response, int]:
    """Its status and body ({"error": code, "message": ..., **details}); nothing the view wrote is kept."""
    db.session.rollback()
    return jsonify(exc.body()), exc.status


bp.register_error_handler(AppError, _app_error)


def init_app(app: Flask) -> None:
    """Register the blueprint, after the features' init_app added their views to it (Flask refuses views added to
    a registered blueprint)."""
    # Views of no feature, the OpenAPI document, and the audit log's dashboard page (before the dashboard registers).
    from app.admin import dashboard_pages, openapi, routes, store_views  # noqa: F401
    from app.admin.docs import docs_bp

    app.register_blueprint(bp)
    app.register_blueprint(docs_bp)
