"""SQLAlchemy models, one module per domain. Every table but stores carries store_id."""

from .customer import Customer
from .inbox import WebhookDelivery
from .order import Fulfillment, Order, OrderRefund
from .store import PLATFORMS, Store

__all__ = ["PLATFORMS", "Customer", "Fulfillment", "Order", "OrderRefund", "Store", "WebhookDelivery"]
