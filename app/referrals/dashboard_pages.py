"""The dashboard's Referrals page (/app/referrals): referrals by status, flagged first, with their fraud reasons,
and the merchant's decision on a flagged one.

Approve and reject are POSTs (CSRF-checked by the registry for cookie sessions) that run the admin API's own
service functions (service.decide under a row lock, then service.audit_decision: one audit row naming the
merchant, in the decision's transaction) and answer 303 back to the list with what happened (`done`). A referral
of another store is 404, one no longer flagged (decided in another tab) says so. 20 a page, newest first.
"""

from __future__ import annotations

from typing import Any

from flask import abort, request
from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from werkzeug.wrappers import Response as BaseResponse

from app.admin.openapi import MAX_ID
from app.dashboard.i18n import N_
from app.dashboard.paging import paginate
from app.dashboard.registry import after_action, current_merchant, dashboard_page, page_url, render_page
from app.extensions import db
from app.money import format_money
from app.records.models import Customer, Order
from app.referrals.models import FLAGGED, PENDING, QUALIFIED, REJECTED, REWARDED, VOID, Referral
from app.referrals.service import DecisionError, audit_decision, decide

STATUS_TABS = (
    (FLAGGED, N_("Flagged")),
    (PENDING, N_("Pending")),
    (QUALIFIED, N_("Qualified")),
    (REWARDED, N_("Rewarded")),
    (REJECTED, N_("Rejected")),
    (VOID, N_("Void")),
)
REASONS = {
    "same_customer": N_("Same customer record as the referrer"),
    "same_email": N_("Same mailbox as the referrer"),
    "same_address": N_("Same shipping address as the referrer"),
    "same_phone": N_("Same phone number as the referrer"),
    "same_payment": N_("Same payment method as the referrer"),
    "same_device": N_("Same device as the referrer"),
    "velocity": N_("Too many referrals in a short time"),
}
DONE = {
    "approve": (N_("Referral approved. The referrer is rewarded once the return window has passed."), "success"),
    "reject": (N_("Referral rejected. It will never be rewarded."), "success"),
    "not_flagged": (N_("This referral was already decided; nothing was changed."), "critical"),
}
KEEP = ("status", "page")
ID = f"int(max={MAX_ID})"  # ids are BIGINT: a larger number is no row (404), not a database error


def _status() -> str:
    status = request.args.get("status", FLAGGED)
    return status if status in dict(STATUS_TABS) else FLAGGED


@dashboard_page("/referrals", title=N_("Referrals"), nav=N_("Referrals"), order=40)
def referrals_list() -> str:
    store = current_merchant().store
    status = _status()
    by_status = select(Referral.status, func.count()).where(Referral.store_id == store.id).group_by(Referral.status)
    counts: dict[str, int] = {status: count for status, count in db.session.execute(by_status)}
    listed = paginate(
        db.session,
        select(Referral).where(Referral.store_id == store.id, Referral.status == status).order_by(Referral.id.desc()),
    )
    return render_page(
        "referrals/dashboard_referrals.html",
        status=status,
        tabs=[(key, label, counts.get(key, 0), page_url("referrals_list", status=key)) for key, label in STATUS_TABS],
        listed=listed,
        rows=_rows(store.id, listed.rows),
        previous_url=page_url("referrals_list", status=status, page=listed.previous) if listed.previous else None,
        next_url=page_url("referrals_list", status=status, page=listed.next) if listed.next else None,
        reasons=REASONS,
        done=DONE.get(request.args.get("done", "")),
        action_args={"status": status, "page": listed.number if listed.number > 1 else None},
    )


def _rows(store_id: int, referrals: list[Referral]) -> list[dict[str, Any]]:
    """Each referral with the referrer's and the friend's e-mail and the order's name (one query, store-scoped)."""
    if not referrals:
        return []
    referrer, friend = aliased(Customer), aliased(Customer)
    found = db.session.execute(
        select(Referral.id, referrer.email, friend.email, Order.name)
        .join(referrer, referrer.id == Referral.referrer_customer_id)
        .outerjoin(friend, friend.id == Referral.friend_customer_id)
        .outerjoin(Order, (Order.store_id == store_id) & (Order.platform_id == Referral.order_platform_id))
        .where(Referral.store_id == store_id, Referral.id.in_([r.id for r in referrals]))
    ).all()
    extra = {rid: (ref_email, friend_email, order_name) for rid, ref_email, friend_email, order_name in found}
    return [
        {
            "referral": r,
            "referrer": extra.get(r.id, (None, None, None))[0],
            "friend": extra.get(r.id, (None, None, None))[1],
            "order": extra.get(r.id, (None, None, None))[2] or f"#{r.order_platform_id}",
            "total": format_money(r.order_total, r.currency),
        }
        for r in referrals
    ]


@dashboard_page(
    f"/referrals/<{ID}:referral_id>/<any(approve, reject):decision>",
    title=N_("Referrals"),
    methods=("POST",),
)
def referrals_decide(referral_id: int, decision: str) -> BaseResponse:
    store = current_merchant().store
    try:
        referral = decide(db.session, store, referral_id, approve=decision == "approve", by="merchant:dashboard")
    except LookupError:
        db.session.rollback()
        abort(404)  # another store's referral, or none: the same answer
    except DecisionError:
        db.session.rollback()
        return after_action("referrals_list", "not_flagged", KEEP)
    audit_decision(db.session, store, referral)
    db.session.commit()
    return after_action("referrals_list", decision, KEEP)
