"""What other features use of compliance: one import point (.importlinter's public_api contract).

- PERSONAL_DATA, register_personal_data(model, columns, customer_key="customer_id"): columns a customer
  redaction clears and a data request exports.
- register_order_personal_data(model, columns): columns of rows kept per order (store_id, order_platform_id)
  that a customer redaction clears on the subject's orders (fulfilments' tracking numbers and links are built in).
- register_order_rows(model, name): rows kept per order without a customer id that a data request exports under
  each of the customer's orders, as `name`.
- register_erasure_hook(hook): called with (session, store, customer ids) when customers are erased (files,
  rows a column list cannot describe).
- register_shop_erasure_hook(hook): called when a whole store is redacted (shop/redact).
"""

from __future__ import annotations

from app.compliance.data import register_order_rows
from app.compliance.erasure import (
    PERSONAL_DATA,
    register_erasure_hook,
    register_order_personal_data,
    register_personal_data,
)
from app.compliance.shop_redact import register_shop_erasure_hook

__all__ = [
    "PERSONAL_DATA",
    "register_erasure_hook",
    "register_order_personal_data",
    "register_order_rows",
    "register_personal_data",
    "register_shop_erasure_hook",
]
