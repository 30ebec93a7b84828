"""The merchant's dashboard: server-rendered pages under /app, the same for both platforms.

Plumbing only (like app/admin and app/storefront): the blueprint, the layout, the page registry features add
their pages to (`registry.dashboard_page`, imported by their init_app), who the merchant is (`access.py`: an
App Bridge session token inside the Shopify admin, a magic-link session cookie at our own origin for
WooCommerce), CSRF, the Overview page whose figures the features contribute (`figures.register_section`), the
Customers pages whose timeline they contribute to (`timeline.register_timeline`) and the Store settings page drawn
from the store settings registry (app/stores/settings.py). It names no feature. docs/dashboard.md says how a page
is added.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask
from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader

bp = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/app",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
# The dashboard's templates, then the folders features add for their pages and panels (add_template_folder).
# ChoiceLoader keeps this very list, so a folder appended later is searched too.
_FOLDERS: list[BaseLoader] = [FileSystemLoader(str(Path(__file__).resolve().parent / "templates"))]
bp.jinja_loader = ChoiceLoader(_FOLDERS)  # type: ignore[misc,assignment]


def add_template_folder(path: Path) -> None:
    """A feature's templates folder, for the pages it registers (their names start with the feature's, e.g.
    "loyalty/dashboard_points.html", so they do not shadow each other)."""
    if not any(getattr(loader, "searchpath", None) == [str(path)] for loader in _FOLDERS):
        _FOLDERS.append(FileSystemLoader(str(path)))


def init_app(app: Flask) -> None:
    """Register the blueprint after the features' init_app added their pages (as app/admin does)."""
    from app.dashboard import cli, customers, errors, i18n, login, overview, plugin_link, programmes, store_settings  # noqa: F401

    i18n.init_app(app)
    app.register_blueprint(bp)
