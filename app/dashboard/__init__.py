"""The merchant's dashboard: server-rendered pages under /app, the same for both platforms.

Plumbing only (like app/admin and app/storefront): the blueprint, the layout, the page registry features add
their pages to (`registry.dashboard_page`, imported by their init_app), who the merchant is (`access.py`: an
App Bridge session token inside the Shopify admin, a magic-link session cookie at our own origin for
WooCommerce), CSRF, and the Overview page whose figures the features contribute (`figures.register_section`).
It names no feature. docs/dashboard.md says how a page is added.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/app",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


def init_app(app: Flask) -> None:
    """Register the blueprint after the features' init_app added their pages (as app/admin does)."""
    from app.dashboard import cli, errors, i18n, login, overview, plugin_link  # noqa: F401  (no feature's views)

    i18n.init_app(app)
    app.register_blueprint(bp)
