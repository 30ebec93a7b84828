"""What one order brought its customer, for the pages right after the purchase: the Shopify Thank-you and
Order status blocks (extensions/ppe-thank-you, extensions/ppe-order-status) and any storefront that asks.

GET /orders/<order_id>/rewards (storefront.py) gathers the order's points (loyalty), its delivered products
not reviewed yet with our review form's link (reviews) and whether it was the customer's first order
(records). It owns no table: it sits above the features it reads. Docs: docs/shopify-extensions.md.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.order_rewards import storefront  # noqa: F401  (registers its storefront route)
