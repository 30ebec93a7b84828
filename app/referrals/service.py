"""Referral codes, landings (the friend's single-use discount), merchant decisions and the report.

API (other features and the views call these; the caller commits):
- get_or_create_code(session, store, customer, *, ip_hash=None, ua_hash=None) -> ReferralCode
- record_landing, find_invite: the friend's invite (app/referrals/invites.py)
- friend_discount_spec(store, invite, now) -> DiscountSpec  (what the job creates at the store)
- landing_token(store, invite) -> str / read_landing_token(store, token) -> str | None (the invite's nonce)
- client_hash(value) -> str | None  (keyed hash of an IP or user agent: nothing in clear is kept)
- decide(session, store, referral_id, *, approve, by, now=None) -> Referral  (DecisionError)
- report(session, store) -> dict;  list_referrals(session, store, status=None, limit=100) -> list[dict]

Why the friend gets a generated per-friend code rather than the referral code itself: a shared code is
usable by anyone who sees it (coupon sites), cannot be single-use, and would tell us nothing about *which*
friend used it. A per-friend code is single-use (usage limit 1, once per customer, new customers only where
the platform can enforce it), can be created retry-safely (the code is the idempotency key, stored before the
job runs), and its use on an order is the attribution. The referral code stays short and readable for sharing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.admin import audit
from app.errors import Conflict
from app.money import format_money
from app.platform.sql import insert_row
from app.platform.types import utcnow
from app.records.models import Customer
from app.referrals.models import FLAGGED, PENDING, REJECTED, REWARDED, Referral, ReferralCode, ReferralInvite
from app.referrals.settings import Discount, get_settings
from app.security import signing_keys
from app.stores.models import Store
from connectors.writeback import DiscountSpec

#: No 0/O, 1/I/L: codes are read aloud and typed from screenshots. 30 symbols ** 8 ~ 6.6e11 codes.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
_SALT = "referral-landing"


class DecisionError(Conflict, ValueError):
    """Only a flagged referral waits for a decision."""

    code = "not_flagged"


def new_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def find_code(session: Session, code: str) -> ReferralCode | None:
    """A code is drawn unique across stores (see get_or_create_code), so the code names its store."""
    return session.scalar(select(ReferralCode).where(ReferralCode.code == code.strip().upper()).limit(1))


def code_of(session: Session, store: Store, customer_id: int) -> ReferralCode | None:
    stmt = select(ReferralCode).where(ReferralCode.store_id == store.id, ReferralCode.customer_id == customer_id)
    return session.scalar(stmt)


def get_or_create_code(
    session: Session, store: Store, customer: Customer, *, ip_hash: str | None = None, ua_hash: str | None = None
) -> ReferralCode:
    if customer.store_id != store.id:
        raise ValueError("customer of another store")
    existing = code_of(session, store, customer.id)
    for _ in range(8):
        if existing is not None:
            break
        candidate = new_code()
        if session.scalar(select(ReferralCode.id).where(ReferralCode.code == candidate)) is not None:
            continue  # unique in every store, so the share link /ref/<code> needs no store in it
        if insert_row(session, row := ReferralCode(store_id=store.id, customer_id=customer.id, code=candidate)):
            existing = row
        else:
            existing = code_of(session, store, customer.id)  # None: the random code collided; draw again
    if existing is None:
        raise RuntimeError("could not draw a free referral code")
    if ip_hash:
        existing.owner_ip_hash, existing.owner_ua_hash = ip_hash, ua_hash
    session.flush()
    return existing


def client_hash(value: str | None) -> str | None:
    if not value:
        return None
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, b"referral-client:" + value.encode(), hashlib.sha256).hexdigest()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(signing_keys(), salt=_SALT)


def landing_token(store: Store, invite: ReferralInvite) -> str:
    return str(_serializer().dumps([store.id, invite.token]))


def read_landing_token(store: Store, token: str | None) -> str | None:
    if not token:
        return None
    try:
        store_id, nonce = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return str(nonce) if store_id == store.id else None


def invite_by_token(session: Session, store: Store, nonce: str) -> ReferralInvite | None:
    stmt = select(ReferralInvite).where(ReferralInvite.store_id == store.id, ReferralInvite.token == nonce)
    return session.scalar(stmt)


def discount_spec(code: str, title: str, discount: Discount, currency: str | None, now: datetime, **kw: Any):
    return DiscountSpec(
        code=code,
        title=title,
        kind=discount.kind,  # type: ignore[arg-type]
        value=discount.value,
        currency=discount.currency or currency,
        minimum_subtotal=discount.minimum_subtotal,
        ends_at=now + timedelta(days=discount.expires_days) if discount.expires_days else None,
        **kw,
    )


def friend_discount_spec(store: Store, invite: ReferralInvite, now: datetime) -> DiscountSpec:
    """Single use, once per customer, new customers only (Shopify segment; WooCommerce: meta, checked by us)."""
    settings = get_settings(store)
    return discount_spec(
        invite.discount_code,
        "A friend's welcome (referral)",
        settings.friend_discount,
        store.currency,
        now,
        usage_limit=1,
        once_per_customer=True,
        new_customers_only=True,
    )


def decide(
    session: Session, store: Store, referral_id: int, *, approve: bool, by: str, now: datetime | None = None
) -> Referral:
    """The merchant's decision on a flagged referral: approve (it goes on to the window) or reject (never)."""
    stmt = select(Referral).where(Referral.store_id == store.id, Referral.id == referral_id).with_for_update()
    referral = session.scalar(stmt)
    if referral is None:
        raise LookupError(referral_id)
    if referral.status != FLAGGED:
        raise DecisionError(f"referral is {referral.status}, only flagged referrals wait for a decision")
    referral.status = PENDING if approve else REJECTED
    referral.decided_by = by[:64]
    referral.decided_at = now or utcnow()
    session.flush()
    return referral


def audit_decision(session: Session, store: Store, referral: Referral) -> None:
    """The merchant's decision in the audit log, in its transaction (only flagged referrals are decided)."""
    action = "referral.approve" if referral.status == PENDING else "referral.reject"
    audit.record(session, store, action, f"referral:{referral.id}", {"status": [FLAGGED, referral.status]})


def as_dict(referral: Referral) -> dict[str, Any]:
    return {
        "id": referral.id,
        "status": referral.status,
        "reasons": list(referral.reasons or []),
        "referrer_customer_id": referral.referrer_customer_id,
        "friend_customer_id": referral.friend_customer_id,
        "order_platform_id": referral.order_platform_id,
        "via": referral.via,
        "currency": referral.currency,
        "order_total": format_money(referral.order_total, referral.currency),
        "reward_due_at": referral.reward_due_at.isoformat() if referral.reward_due_at else None,
        "reward": dict(referral.reward or {}),
        "decided_by": referral.decided_by,
        "created_at": referral.created_at.isoformat() if referral.created_at else None,
        "rewarded_at": referral.rewarded_at.isoformat() if referral.rewarded_at else None,
    }


def list_referrals(session: Session, store: Store, status: str | None = None, limit: int = 100) -> list[dict]:
    stmt = select(Referral).where(Referral.store_id == store.id)
    if status:
        stmt = stmt.where(Referral.status == status)
    return [as_dict(r) for r in session.scalars(stmt.order_by(Referral.id.desc()).limit(limit))]


def report(session: Session, store: Store) -> dict[str, Any]:
    """Codes shared, landings, referrals by status, rejections and voids by reason, referred revenue per currency.

    Revenue counts referrals that stand (pending, qualified, rewarded): order total less refunds is not
    tracked here, since a refund inside the window voids the referral anyway.
    """
    count = lambda model: session.scalar(select(func.count(model.id)).where(model.store_id == store.id)) or 0  # noqa: E731
    referrals = list(session.scalars(select(Referral).where(Referral.store_id == store.id)))
    by_status = Counter(r.status for r in referrals)
    reasons: dict[str, Counter[str]] = defaultdict(Counter)
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for r in referrals:
        if r.status in ("rejected", "void", "flagged"):
            reasons[r.status].update(r.reasons or ["unspecified"])
        if r.status in (PENDING, "qualified", REWARDED):
            revenue[r.currency] += r.order_total
    return {
        "codes_shared": count(ReferralCode),
        "landings": count(ReferralInvite),
        "referrals": len(referrals),
        "by_status": dict(sorted(by_status.items())),
        "qualified": by_status.get("qualified", 0) + by_status.get(REWARDED, 0),
        "rewarded": by_status.get(REWARDED, 0),
        "rejected": by_status.get(REJECTED, 0),
        "reasons": {status: dict(sorted(c.items())) for status, c in sorted(reasons.items())},
        "revenue": {currency: format_money(amount, currency) for currency, amount in sorted(revenue.items())},
    }
