"""SQLAlchemy models, one module per domain. Every table but stores carries store_id."""

from .catalog import Product
from .compliance import ComplianceRequest
from .customer import Customer
from .inbox import WebhookDelivery
from .install import ShopifyInstall, ShopifyOAuthState
from .loyalty import LoyaltyAccount, LoyaltyStoreState, LoyaltyTierChange, PointsLedger
from .messaging import EmailSuppression, Message
from .order import Fulfillment, Order, OrderDeletion, OrderRefund
from .redemption import LoyaltyWriteback, Redemption
from .referral import Referral, ReferralCode, ReferralInvite
from .review_publishing import ReviewPublication
from .reviews import Review, ReviewRequest
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
    "LoyaltyTierChange",
    "LoyaltyWriteback",
    "Order",
    "OrderDeletion",
    "OrderRefund",
    "PointsLedger",
    "Product",
    "Redemption",
    "Referral",
    "ReferralCode",
    "ReferralInvite",
    "Review",
    "ReviewPublication",
    "ReviewRequest",
    "ShopifyInstall",
    "ShopifyOAuthState",
    "Store",
    "WebhookDelivery",
    "WooConnection",
    "WooStoreState",
]
