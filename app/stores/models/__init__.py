"""The tenant and its installs: stores, Shopify install state, WooCommerce connections."""

from app.stores.models.shopify import ShopifyInstall, ShopifyOAuthState
from app.stores.models.store import PLATFORMS, Store
from app.stores.models.woocommerce import WooConnection, WooStoreState

__all__ = ["PLATFORMS", "ShopifyInstall", "ShopifyOAuthState", "Store", "WooConnection", "WooStoreState"]
