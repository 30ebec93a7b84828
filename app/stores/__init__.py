"""Stores: the tenant every row belongs to, its installs (Shopify, WooCommerce), credentials and uninstall hooks."""

from flask import Flask


def init_app(app: Flask) -> None:
    from app.stores import cache, origins, settings, shopify_install, woo_install, woo_plugin

    settings.register_section(origins.SECTION)  # the storefront's extra CORS origins
    cache.install()  # a commit that changes a store drops this process's snapshots of it

    app.register_blueprint(shopify_install.bp)  # /shopify/install, /shopify/callback, /shopify/session
    app.register_blueprint(woo_install.bp)  # /woocommerce/connect|callback|return, `flask woocommerce`
    app.register_blueprint(woo_plugin.bp)  # /woocommerce/plugin/*: our WordPress plugin (docs/wordpress-plugin.md)
