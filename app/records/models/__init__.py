"""The store's records: customers (guests included), orders and their refunds and fulfilments, the product cache."""

from app.records.models.catalog import Product
from app.records.models.customer import Customer
from app.records.models.history import HistoryImport
from app.records.models.order import Fulfillment, Order, OrderDay, OrderDeletion, OrderRefund

__all__ = ["Customer", "Fulfillment", "HistoryImport", "Order", "OrderDay", "OrderDeletion", "OrderRefund", "Product"]
