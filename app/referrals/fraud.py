"""Referral fraud checks: does the friend look like the referrer? Each match is a reason the merchant sees.

The checks compare the friend's order with the referrer's record and every order the referrer placed:
- same_customer: the friend's order belongs to the referrer's own customer record;
- same_email: the addresses are one mailbox once normalised (table below);
- same_address: the shipping address, normalised (case, whitespace, punctuation, common abbreviations);
- same_phone: digits only, compared on the last 9 digits so +44 7700 900123 == 07700 900123;
- same_payment: the payment fingerprint, where the payload exposes one (connectors: Shopify payment_details,
  WooCommerce gateway meta), never otherwise;
- same_device: the landing's IP and user agent hashes equal those of the referrer's own storefront session;
- velocity: the referrer already has `velocity.max` referrals in the last `velocity.hours`.

E-mail normalisation (`mailbox_key`), by provider:
| domain                         | dots in the local part | +tag      |
| ------------------------------ | ---------------------- | --------- |
| gmail.com, googlemail.com      | ignored                | ignored   |
| every other domain             | kept                   | ignored   |
(googlemail.com is gmail.com. Gmail ignores dots, https://support.google.com/mail/answer/7436150; most large
providers, Outlook, iCloud, Fastmail, Proton, Yahoo's own "-" aside, deliver `name+tag@` to `name@`; a false
match only flags the referral for the merchant, it never rejects it.)
"""

from __future__ import annotations

import re
import string
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.platform.sql import get_in_store
from app.records.models import Customer, Order
from app.referrals.models import Referral, ReferralCode, ReferralInvite
from app.referrals.settings import ReferralSettings
from app.stores.models import Store

DOT_BLIND = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}

_ABBREVIATIONS = {
    "street": "st", "str": "st", "avenue": "ave", "av": "ave", "road": "rd", "drive": "dr", "lane": "ln",
    "boulevard": "blvd", "court": "ct", "place": "pl", "square": "sq", "highway": "hwy", "parkway": "pkwy",
    "terrace": "ter", "apartment": "apt", "suite": "ste", "unit": "apt", "floor": "fl", "building": "bldg",
    "north": "n", "south": "s", "east": "e", "west": "w", "number": "no", "strasse": "str", "straße": "str",
}  # fmt: skip
_PUNCTUATION = str.maketrans({ch: " " for ch in string.punctuation + "#"})


def mailbox_key(email: str | None) -> str | None:
    """The mailbox an address delivers to, for comparison only (see the table above)."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in DOT_BLIND:
        domain = DOT_BLIND[domain]
        local = local.replace(".", "")
    return f"{local}@{domain}" if local else None


def address_key(address: dict[str, Any] | None) -> str | None:
    """Street, number, post code and country, normalised; None when the address has no street."""
    if not address or not address.get("address1"):
        return None
    parts = [address.get(k) or "" for k in ("address1", "address2", "zip", "country_code")]
    words = " ".join(parts).lower().translate(_PUNCTUATION).split()
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words) or None


def phone_key(phone: str | None) -> str | None:
    digits = re.sub(r"\D", "", phone or "")
    return digits[-9:] if len(digits) >= 7 else None


def _keys(values: list[Any], fn: Any) -> set[str]:
    return {k for k in (fn(v) for v in values) if k}


def check(
    session: Session,
    store: Store,
    settings: ReferralSettings,
    *,
    order: Order,
    referrer: Customer,
    code: ReferralCode,
    invite: ReferralInvite | None,
    now: datetime,
) -> list[str]:
    """The reasons this referral looks like self-referral or abuse (empty: none)."""
    reasons: list[str] = []
    friend = get_in_store(session, Customer, order.customer_id, order.store_id) if order.customer_id else None
    if friend is not None and friend.id == referrer.id:
        reasons.append("same_customer")
    theirs = list(
        session.scalars(
            select(Order).where(
                Order.store_id == store.id, Order.customer_id == referrer.id, Order.platform_id != order.platform_id
            )
        )
    )
    if friend is not None and friend.id != referrer.id:
        if mailbox_key(friend.email) and mailbox_key(friend.email) == mailbox_key(referrer.email):
            reasons.append("same_email")
    if address_key(order.shipping_address) in _keys([o.shipping_address for o in theirs], address_key):
        reasons.append("same_address")
    own_phones = _keys([referrer.phone, *(o.phone for o in theirs)], phone_key)
    friend_phones = _keys([order.phone, friend.phone if friend else None], phone_key)
    if friend_phones & own_phones:
        reasons.append("same_phone")
    if order.payment_fingerprint and order.payment_fingerprint in {o.payment_fingerprint for o in theirs}:
        reasons.append("same_payment")
    if invite is not None and invite.ip_hash and code.owner_ip_hash == invite.ip_hash:
        if code.owner_ua_hash == invite.ua_hash:
            reasons.append("same_device")
    if settings.velocity_max:
        since = now - timedelta(hours=settings.velocity_hours)
        recent = session.scalar(
            select(func.count(Referral.id)).where(
                Referral.store_id == store.id,
                Referral.referrer_customer_id == referrer.id,
                Referral.created_at >= since,
                Referral.order_platform_id != order.platform_id,
            )
        )
        if (recent or 0) >= settings.velocity_max:
            reasons.append("velocity")
    return reasons
