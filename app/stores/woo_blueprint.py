"""Blueprint: installing from a WooCommerce store (wc-auth handshake) and the `flask woocommerce` commands.

Routes under /woocommerce, commands under `flask woocommerce`.
"""

from flask import Blueprint, Flask

bp = Blueprint("install_woo", __name__, url_prefix="/woocommerce", cli_group="woocommerce")


def init_app(app: Flask) -> None:
    from app.stores import woo_install as routes  # noqa: F401  (registers the views and commands on bp)

    app.register_blueprint(bp)
