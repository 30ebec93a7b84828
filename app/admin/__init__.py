"""Blueprint: the merchant's JSON admin API under /admin/api/v1 (the dashboard and scripts call it).

Every view is wrapped by auth.merchant_required, which resolves the one store the caller speaks for; views
never take a store id from the request, so no store's data is reachable with another store's credentials.
Feature modules add their views to `bp` (loyalty settings, reports, ...).
"""

from flask import Blueprint, Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

bp = Blueprint("admin", __name__, url_prefix="/admin/api/v1")


@bp.errorhandler(HTTPException)
def _json_error(exc: HTTPException) -> tuple[Response, int]:
    """Scripts and the dashboard read JSON, also when a request is refused (bad JSON, too large, ...)."""
    return jsonify(error=(exc.name or "error").lower().replace(" ", "_"), message=exc.description), exc.code or 500


def init_app(app: Flask) -> None:
    from app.admin import routes  # noqa: F401
    from app.loyalty import admin as loyalty  # noqa: F401  (register the views on bp)
    from app.loyalty import admin_redemptions as redemptions  # noqa: F401
    from app.referrals import admin as referrals  # noqa: F401
    from app.reviews import admin as reviews_admin  # noqa: F401  (feature views, before registration)

    app.register_blueprint(bp)
