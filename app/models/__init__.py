"""SQLAlchemy models, one module per domain. Every table but stores carries store_id."""

from .compliance import ComplianceRequest
from .customer import Customer
from .inbox import WebhookDelivery
from .install import ShopifyInstall, ShopifyOAuthState
from .loyalty import LoyaltyAccount, LoyaltyStoreState, PointsLedger
from .messaging import EmailSuppression, Message
from .order import Fulfillment, Order, OrderDeletion, OrderRefund
from .redemption import LoyaltyWriteback, Redemption
from .store import PLATFORMS, Store
from .woo_connect import WooConnection, WooStoreState

__all__ = [
    "PLATFORMS",
    "ComplianceRequest",
    "Customer",
    "EmailSuppression",
    "Fulfillment",
    "Message",
    "LoyaltyAccount",
    "LoyaltyStoreState",
    "LoyaltyWriteback",
    "Order",
    "OrderDeletion",
    "OrderRefund",
    "PointsLedger",
    "Redemption",
    "ShopifyInstall",
    "ShopifyOAuthState",
    "Store",
    "WebhookDelivery",
    "WooConnection",
    "WooStoreState",
]
