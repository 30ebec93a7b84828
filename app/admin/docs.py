"""The API viewer: `GET /admin/api/docs`, Swagger UI over the admin API's OpenAPI document (and the storefront's).

Both documents are served as JSON without credentials (`/admin/api/v1/openapi.json`, app/admin/openapi.py, and
`/api/v1/openapi.json`, app/storefront/openapi.py); this page shows either. Swagger UI 5 (npm `swagger-ui-dist`,
which reads OpenAPI 3.1: https://swagger.io/docs/open-source-tools/swagger-ui/usage/installation/) is vendored
into app/admin/static/swagger-ui by `scripts/vendor-swagger-ui` (pinned version, integrity checked) and served
from our own origin: nothing is fetched from a CDN. Our own small script starts it (no inline script). Its
refusals are JSON, like the admin API's: a missing asset answers 404 {"error": "not_found", ...}.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, jsonify, render_template, request, send_from_directory, url_for
from werkzeug.exceptions import HTTPException

docs_bp = Blueprint("apidocs", __name__, url_prefix="/admin/api/docs", template_folder="templates")
STATIC = Path(__file__).resolve().parent / "static"
SPECS = {"admin": "admin.openapi_document", "storefront": "storefront.openapi_document"}


@docs_bp.errorhandler(HTTPException)
def _json_error(exc: HTTPException) -> tuple[Response, int]:
    return jsonify(error=(exc.name or "error").lower().replace(" ", "_"), message=exc.description), exc.code or 500


@docs_bp.get("")
def viewer() -> str:
    """The viewer of one document: ?spec=admin (the default) or ?spec=storefront."""
    chosen = request.args.get("spec", "admin")
    chosen = chosen if chosen in SPECS else "admin"
    links = {name: url_for("apidocs.viewer", spec=name) for name in SPECS}
    return render_template("admin_docs/viewer.html", spec_url=url_for(SPECS[chosen]), chosen=chosen, links=links)


@docs_bp.get("/assets/<path:name>")
def asset(name: str) -> Response:
    """The vendored viewer and our start script (send_from_directory refuses paths outside the folder: 404)."""
    response = send_from_directory(STATIC, name, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
