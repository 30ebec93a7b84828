"""What the order followers (records/followers.py) created, by store domain and platform ids: the part of
tests/inbox/test_batch_group.py's comparison that the followers own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.journeys.models import DeliveryUpdate
from app.messaging.models import Message
from app.records.models import Customer
from app.recovery.models import RecoveryCase
from app.referrals.models import Referral, ReferralCode
from app.reviews.models import ReviewRequest
from app.surprises.models import Surprise
from app.surveys.models import SurveyRequest


def _without_links(value: Any) -> Any:
    """A message's context without its signed links: they carry our surrogate ids and the signing time."""
    if isinstance(value, dict):
        return {
            k: "<link>" if k.endswith("url") and k != "tracking_url" else _without_links(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_without_links(v) for v in value]
    return value


def follower_records(domain: dict[int, str]) -> dict[str, list[Any]]:
    """Each follower's rows, sorted; customers by platform id, never by our surrogate ids."""
    session = db.session
    customer = {(s, i): p for s, i, p in session.execute(select(Customer.store_id, Customer.id, Customer.platform_id))}

    def who(store_id: int, customer_id: int | None) -> str | None:
        return None if customer_id is None else customer.get((store_id, customer_id), f"missing:{customer_id}")

    kinds: dict[str, list[Any]] = {
        "review_requests": [
            (domain[r.store_id], r.order_platform_id, r.fulfillment_key, who(r.store_id, r.customer_id), r.status,
             r.due_at, r.reminder_due_at, r.locale, r.reason)
            for r in session.scalars(select(ReviewRequest))
        ],
        "survey_requests": [
            (domain[r.store_id], r.order_platform_id, who(r.store_id, r.customer_id), r.kind, r.status, r.due_at,
             r.locale, r.reason)
            for r in session.scalars(select(SurveyRequest))
        ],
        "recovery_cases": [
            (domain[c.store_id], c.order_platform_id, c.order_name, who(c.store_id, c.customer_id), c.reason,
             c.source, c.status, c.coupon_kind, str(c.coupon_value), c.currency, c.expires_at,
             c.used_order_platform_id)
            for c in session.scalars(select(RecoveryCase))
        ],
        "referral_codes": [
            (domain[c.store_id], who(c.store_id, c.customer_id)) for c in session.scalars(select(ReferralCode))
        ],
        "referrals": [
            (domain[r.store_id], r.order_platform_id, who(r.store_id, r.referrer_customer_id),
             who(r.store_id, r.friend_customer_id), r.via, r.status, r.reasons, r.decided_by, r.currency,
             str(r.order_total), r.reward_due_at)
            for r in session.scalars(select(Referral))
        ],
        "surprises": [  # expires_at: from the clock when decided, so only whether it is set
            (domain[s.store_id], who(s.store_id, s.customer_id), s.threshold, s.order_platform_id, s.order_name,
             s.status, s.skip_reason, s.kind, str(s.value), s.currency, s.points, s.expires_at is not None)
            for s in session.scalars(select(Surprise))
        ],
        "delivery_updates": [
            (domain[u.store_id], u.order_platform_id, u.fulfillment_platform_id, u.state, u.outcome,
             u.message_id is not None)
            for u in session.scalars(select(DeliveryUpdate))
        ],
        "messages": [
            (domain[m.store_id], m.template, who(m.store_id, m.customer_id), m.channel, m.purpose, m.to_address,
             m.locale, m.reason, m.status, m.dedupe_key.split(":")[0], _without_links(m.context))
            for m in session.scalars(select(Message))
        ],
    }  # fmt: skip
    return {kind: sorted(rows, key=repr) for kind, rows in kinds.items()}
