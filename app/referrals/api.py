"""What other features use of referrals besides its __init__ (init_app): one import point (.importlinter's public_api
contract).

- share_link(session, store, customer) -> (code, url) | None: the customer's referral code (drawn on first use,
  referrals/service.get_or_create_code) and its share link; None when the store's programme is off.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.records.models import Customer
from app.referrals.landing import share_url
from app.referrals.service import get_or_create_code
from app.referrals.settings import get_settings
from app.stores.models import Store

__all__ = ["share_link"]


def share_link(session: Session, store: Store, customer: Customer) -> tuple[str, str] | None:
    if not get_settings(store).enabled:
        return None
    code = get_or_create_code(session, store, customer)
    return code.code, share_url(code)
