"""What other features use of compliance: one import point (.importlinter's public_api contract).

- PERSONAL_DATA, register_personal_data(model, columns, customer_key="customer_id"): columns a customer
  redaction clears and a data request exports.
- register_erasure_hook(hook): called with (session, store, customer ids) when customers are erased (files,
  rows a column list cannot describe).
- register_shop_erasure_hook(hook): called when a whole store is redacted (shop/redact).
"""

from __future__ import annotations

from app.compliance.erasure import PERSONAL_DATA, register_erasure_hook, register_personal_data
from app.compliance.shop_redact import register_shop_erasure_hook

__all__ = ["PERSONAL_DATA", "register_erasure_hook", "register_personal_data", "register_shop_erasure_hook"]
