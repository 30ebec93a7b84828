"""Stores: the tenant every row belongs to, its installs (Shopify, WooCommerce), credentials and uninstall hooks."""

from flask import Flask


def init_app(app: Flask) -> None:
    from app.stores import shopify_install, woo_install, woo_plugin

    app.register_blueprint(shopify_install.bp)  # /shopify/install, /shopify/callback, /shopify/session
    app.register_blueprint(woo_install.bp)  # /woocommerce/connect|callback|return, `flask woocommerce`
    app.register_blueprint(woo_plugin.bp)  # /woocommerce/plugin/*: our WordPress plugin (docs/wordpress-plugin.md)
