"""What one customer's referral link brought, for the customer themselves (GET /me/referral/results, the Shopify
Rewards page and any storefront): read from their own code's rows only.

- invited: friends who took their discount code through the link (ReferralInvite rows of the code);
- joined: of those, friends who gave their e-mail for it (the invite's friend_key), i.e. signed up for the offer;
- ordered: friends' first orders attributed to the customer that still stand (every Referral but void/rejected:
  pending, held for review, qualified or rewarded);
- rewarded / rewards: the referrals that earned the customer their reward, newest first (points, or the thank-you
  discount code once it exists at the store), at most 20 listed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.records.models import Customer
from app.referrals.models import REJECTED, REWARDED, VOID, Referral, ReferralCode, ReferralInvite
from app.stores.models import Store

MAX_LISTED = 20


def _reward(referral: Referral) -> dict[str, Any] | None:
    reward = referral.reward or {}
    at = (referral.rewarded_at or referral.updated_at).isoformat()
    if reward.get("type") == "points":
        return {"kind": "points", "points": int(reward.get("points") or 0), "code": None, "at": at}
    if reward.get("type") == "discount":
        code = reward.get("code") if reward.get("status") == "created" else None
        return {"kind": "discount_code", "points": None, "code": code, "at": at}
    return None


def results_of(session: Session, store: Store, customer: Customer | None) -> dict[str, Any]:
    empty: dict[str, Any] = {"invited": 0, "joined": 0, "ordered": 0, "rewarded": 0, "rewards": []}
    if customer is None:  # verified by the platform, unknown to us yet: no link, nothing it brought
        return empty
    code_id = session.scalar(
        select(ReferralCode.id).where(ReferralCode.store_id == store.id, ReferralCode.customer_id == customer.id)
    )
    invited = joined = 0
    if code_id is not None:
        invited, joined = session.execute(
            select(func.count(ReferralInvite.id), func.count(ReferralInvite.friend_key)).where(
                ReferralInvite.store_id == store.id, ReferralInvite.referral_code_id == code_id
            )
        ).one()
    mine = (Referral.store_id == store.id, Referral.referrer_customer_id == customer.id)
    ordered = session.scalar(select(func.count(Referral.id)).where(*mine, Referral.status.not_in((VOID, REJECTED))))
    rewarded = session.scalar(select(func.count(Referral.id)).where(*mine, Referral.status == REWARDED))
    latest = session.scalars(
        select(Referral)
        .where(*mine, Referral.status == REWARDED)
        .order_by(Referral.rewarded_at.desc(), Referral.id.desc())
        .limit(MAX_LISTED)
    )
    rewards = [r for r in (_reward(item) for item in latest) if r is not None]
    return {
        "invited": int(invited or 0),
        "joined": int(joined or 0),
        "ordered": int(ordered or 0),
        "rewarded": int(rewarded or 0),
        "rewards": rewards,
    }
