"""Attribution and the referral's life: from the friend's paid order to the referrer's reward, exactly once.

- reconcile_order (the referrals follower, after loyalty's: referrals/follower.py): an order with no referral
  yet is attributed when it is paid and carries one of our friend codes (Order.discount_codes) or a valid
  landing token (Order.referral_token: Shopify note attribute / WooCommerce meta `_ppe_ref`, set by the
  storefront at checkout). It is recorded `void` (not_first_order) when the friend has an earlier order in our
  records (backfilled history included), `flagged` when a fraud check matches (referrals/fraud.py), else
  `pending`. Later events on the order re-evaluate it: a refund, cancellation or deletion before the reward
  voids it; delivery sets reward_due_at.
- reward_due_at: delivered_at + return window, else fulfilled_at + fallback (the loyalty settings), else NULL.
- issue_reward (the scheduler step, under the store lock): points with source key `referral:<id>:reward`, or a
  discount code (status `qualified` until the write-back job has created it), and the `referral_reward_ready`
  e-mail (dedupe key `referral:<id>:reward_ready`). A reward once given is not taken back by a later refund.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.loyalty.api import credit_points, points_available_at
from app.messaging import enqueue_message
from app.platform.sql import get_in_store
from app.platform.types import utcnow
from app.records import batch_rows
from app.records import orders as order_records
from app.records.models import Customer, Order
from app.referrals import preload
from app.referrals.fraud import check
from app.referrals.models import FLAGGED, PENDING, QUALIFIED, REWARDED, VOID, Referral, ReferralCode, ReferralInvite
from app.referrals.service import discount_spec, get_or_create_code, invite_by_token, new_code, read_landing_token
from app.referrals.settings import get_settings
from app.stores.models import Store
from app.support import FLAGGED_REFERRAL, ShopperMessage
from app.support import record as record_alert

log = logging.getLogger(__name__)
VOIDABLE = (PENDING, FLAGGED)


def referral_for(session: Session, store: Store, order_platform_id: str) -> Referral | None:
    if (known := batch_rows.lookup(session, store.id, "referral", order_platform_id)) is not batch_rows.MISS:
        return known  # loaded for the batch's orders (referrals/preload.py), under the store's lock
    stmt = select(Referral).where(Referral.store_id == store.id, Referral.order_platform_id == order_platform_id)
    return session.scalar(stmt.with_for_update())


def _attributed_invite(session: Session, store: Store, order: Order) -> tuple[ReferralInvite | None, str]:
    codes = batch_rows.order_codes(order)
    if codes:
        found = preload.invites_for_codes(session, store.id, codes)  # the batch's map, loaded per part
        if found is batch_rows.MISS:
            stmt = select(ReferralInvite).where(
                ReferralInvite.store_id == store.id, func.upper(ReferralInvite.discount_code).in_(codes)
            )
            invite = session.scalar(stmt.order_by(ReferralInvite.id))
        else:
            invite = min(found, key=lambda row: row.id, default=None)
        if invite is not None:
            return invite, "discount_code"
    nonce = read_landing_token(store, order.referral_token)
    if nonce:
        invite = invite_by_token(session, store, nonce)
        if invite is not None:
            return invite, "landing_token"
    return None, ""


def _is_first_order(session: Session, store: Store, order: Order) -> bool:
    if order.customer_id is None:
        return True
    earlier = select(func.count(Order.id)).where(
        Order.store_id == store.id,
        Order.customer_id == order.customer_id,
        Order.platform_id != order.platform_id,
        Order.deleted_at.is_(None),
        Order.placed_at <= order.placed_at,
    )
    return not session.scalar(earlier)


def reconcile_order(session: Session, store: Store, order: Order) -> None:
    """Attribution of a friend's first paid order, voiding on refund or cancellation, the reward's due date."""
    settings = get_settings(store)
    referral = referral_for(session, store, order.platform_id)
    if referral is not None:
        evaluate(session, store, referral, order)
        return
    if order.paid_at is None or order.cancelled_at is not None or order.deleted_at is not None:
        return
    if settings.auto_create and order.customer_id is not None:
        customer = get_in_store(session, Customer, order.customer_id, order.store_id)
        if customer is not None:
            get_or_create_code(session, store, customer)
    if not settings.enabled:
        return
    invite, via = _attributed_invite(session, store, order)
    if invite is None:
        return
    attribute(session, store, order, invite, via)


def attribute(session: Session, store: Store, order: Order, invite: ReferralInvite, via: str) -> Referral:
    now = utcnow()
    code = get_in_store(session, ReferralCode, invite.referral_code_id, invite.store_id)
    referrer = get_in_store(session, Customer, code.customer_id, code.store_id) if code else None
    if code is None or referrer is None:
        raise LookupError("invite without a referrer")
    order_records.refresh_deferred_customers(session, store)  # totals are read below (batched processing)
    if not _is_first_order(session, store, order):
        status, reasons = VOID, ["not_first_order"]
    else:
        reasons = check(
            session, store, get_settings(store), order=order, referrer=referrer, code=code, invite=invite, now=now
        )
        status = FLAGGED if reasons else PENDING
    referral = Referral(
        store_id=store.id,
        referrer_customer_id=referrer.id,
        friend_customer_id=order.customer_id,
        invite_id=invite.id,
        order_platform_id=order.platform_id,
        via=via,
        status=status,
        reasons=reasons,
        currency=order.currency,
        order_total=order.total_price,
        reward={},
        created_at=now,
        voided_at=now if status == VOID else None,
    )
    session.add(referral)
    session.flush()
    batch_rows.remember(session, store.id, "referral", referral.order_platform_id, referral)
    evaluate(session, store, referral, order)
    if referral.status == FLAGGED:  # the merchant decides: told by e-mail (the alert recipients of flagged referrals)
        notice = ShopperMessage(
            kind=FLAGGED_REFERRAL,
            source_key=f"referral_flagged:{referral.id}",
            body=", ".join(reasons),
            customer_id=referrer.id,
            order_platform_id=order.platform_id,
            order_name=order.name,
            ref=f"referral:{referral.id}",
        )
        record_alert(session, store, notice, now)
    log.info("referrals.attributed", extra={"store_id": store.id, "referral_id": referral.id, "status": status})
    return referral


def evaluate(session: Session, store: Store, referral: Referral, order: Order) -> None:
    """Void a referral whose order no longer stands; keep its due date current."""
    if referral.status in VOIDABLE:
        why = (
            "deleted" if order.deleted_at else "cancelled" if order.cancelled_at else
            "refunded" if order.refunded_amount > 0 else None
        )  # fmt: skip
        if why:
            referral.status = VOID
            referral.reasons = [*(referral.reasons or []), why]
            referral.voided_at = utcnow()
            log.info("referrals.voided", extra={"store_id": store.id, "referral_id": referral.id})
    referral.reward_due_at = points_available_at(store, order)
    session.flush()


def due_referrals(session: Session, store: Store, now: datetime) -> list[Referral]:
    stmt = select(Referral).where(
        Referral.store_id == store.id, Referral.status == PENDING, Referral.reward_due_at <= now
    )
    stmt = stmt.order_by(Referral.id).with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def issue_reward(session: Session, store: Store, referral: Referral, now: datetime) -> bool:
    """Reward a due referral whose order still stands; True when a reward was given or started."""
    order = order_records.find_order(session, store, referral.order_platform_id)
    if order is None:
        return False
    evaluate(session, store, referral, order)
    if referral.status != PENDING or referral.reward_due_at is None or referral.reward_due_at > now:
        return False
    settings = get_settings(store)
    referrer = get_in_store(session, Customer, referral.referrer_customer_id, referral.store_id)
    if referrer is None:
        return False
    if settings.reward_type == "points":
        credit_points(
            session,
            store,
            referrer.id,
            source_key=f"referral:{referral.id}:reward",
            points=settings.reward_points,
            rule={"referral": str(referral.id), "points": str(settings.reward_points)},
            now=now,
        )
        referral.reward = {"type": "points", "points": settings.reward_points}
        mark_rewarded(session, store, referral, now, f"{settings.reward_points} points")
    else:
        referral.status = QUALIFIED
        referral.reward = {"type": "discount", "code": f"THANKS-{new_code(10)}", "status": "pending"}
    session.flush()
    return True


def reward_spec(store: Store, referral: Referral, referrer: Customer, now: datetime):
    settings = get_settings(store)
    return discount_spec(
        referral.reward["code"],
        "Thank you for referring a friend",
        settings.reward_discount,
        store.currency or referral.currency,
        now,
        usage_limit=1,
        customer_platform_id=referrer.platform_id if store.platform == "shopify" else None,
        customer_email=referrer.email if store.platform == "woocommerce" else None,
    )


def describe_discount(store: Store) -> str:
    d = get_settings(store).reward_discount
    if d.kind == "percentage":
        return f"{d.value.normalize():f}% off"
    if d.kind == "free_shipping":
        return "free shipping"
    return f"{d.value:f} {d.currency or store.currency or ''}".strip() + " off"


def mark_rewarded(session: Session, store: Store, referral: Referral, now: datetime, reward_text: str) -> None:
    referral.status = REWARDED
    referral.rewarded_at = now
    referrer = get_in_store(session, Customer, referral.referrer_customer_id, referral.store_id)
    friend = (
        get_in_store(session, Customer, referral.friend_customer_id, referral.store_id)
        if referral.friend_customer_id
        else None
    )
    if referrer is not None and referrer.email:
        shop = store.domain if store.domain.startswith("http") else f"https://{store.domain}"
        enqueue_message(
            session,
            store,
            template="referral_reward_ready",
            to=referrer.email,
            locale=referrer.locale,
            context={
                "first_name": referrer.first_name,
                "friend_name": (friend.first_name if friend and friend.first_name else "Your friend"),
                "reward": reward_text,
                "shop_url": shop,
            },
            dedupe_key=f"referral:{referral.id}:reward_ready",
            customer_id=referrer.id,
        )
    log.info("referrals.rewarded", extra={"store_id": store.id, "referral_id": referral.id})
