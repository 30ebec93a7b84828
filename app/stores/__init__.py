"""Stores: the tenant every row belongs to, its installs (Shopify, WooCommerce), credentials and uninstall hooks."""

from flask import Flask


def init_app(app: Flask) -> None:
    from app.stores import shopify_blueprint, woo_blueprint

    shopify_blueprint.init_app(app)
    woo_blueprint.init_app(app)
