"""The dashboard's Reviews page (/app/reviews): the moderation queue, its actions, the low-rating alerts.

Tabs by status (held reviews are "Pending", rejected ones "Hidden"), filters by rating and product, 20 a page.
Approve, hide and reply are POSTs (CSRF-checked by the registry for cookie sessions) that run the same
moderation as the admin API (moderation.py: audited, committed, written back to the store) and answer 303 back
to the queue with what happened (`done`). The store is the signed-in merchant's: another store's review is 404.
The low-rating alerts are app/support's rows, read through its public API.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, request
from sqlalchemy import func, select
from werkzeug.wrappers import Response as BaseResponse

from app.admin.openapi import MAX_ID
from app.dashboard.i18n import N_
from app.dashboard.paging import paginate
from app.dashboard.registry import after_action, current_merchant, dashboard_page, page_url, render_page
from app.extensions import db
from app.messaging.api import mail_now
from app.reviews.models.review import HELD, PUBLISHED, REJECTED, Review
from app.reviews.moderation import MAX_REPLY, clean_reply, moderate_review, reply_to_review, store_review
from app.support import LOW_RATING, list_messages

STATUS_TABS = ((HELD, N_("Pending")), (PUBLISHED, N_("Published")), (REJECTED, N_("Hidden")))
FILTERS = ("status", "rating", "product", "page")
ALERTS_SHOWN = 5
ID = f"int(max={MAX_ID})"  # ids are BIGINT: a larger number is no row (404), not a database error
DONE = {
    "publish": (N_("Review approved. It is published and sent to your store."), "success"),
    "reject": (N_("Review hidden. It no longer shows in your store."), "success"),
    "reply": (N_("Reply saved. It shows under the review in your store."), "success"),
    "reply_invalid": (N_("The reply was not saved: write between 1 and 4000 characters."), "critical"),
}
REASONS = {
    "below_threshold": N_("Rating below the auto-publish threshold"),
    "links": N_("Contains a link"),
    "repeated_characters": N_("Repeated characters"),
    "profanity": N_("Blocked word"),
}


def _filters() -> dict[str, Any]:
    status = request.args.get("status", HELD)
    rating = request.args.get("rating", "")
    product = request.args.get("product", "")[:64]
    return {
        "status": status if status in (HELD, PUBLISHED, REJECTED) else HELD,
        "rating": int(rating) if rating in ("1", "2", "3", "4", "5") else None,
        "product": product or None,
    }


def _url(**values: Any) -> str:
    return page_url("reviews_queue", **{k: v for k, v in values.items() if v not in (None, "")})


@dashboard_page("/reviews", title=N_("Reviews"), nav=N_("Reviews"), order=30)
def reviews_queue() -> str:
    store = current_merchant().store
    chosen = _filters()
    where = [Review.store_id == store.id]
    if chosen["rating"]:
        where.append(Review.rating == chosen["rating"])
    if chosen["product"]:
        where.append(Review.product_id == chosen["product"])
    by_status = select(Review.status, func.count()).where(*where).group_by(Review.status)
    counts: dict[str, int] = {status: count for status, count in db.session.execute(by_status)}
    queue = select(Review).where(*where, Review.status == chosen["status"]).order_by(Review.id.desc())
    listed = paginate(db.session, queue)
    products = db.session.execute(
        select(Review.product_id, func.max(Review.product_title))
        .where(Review.store_id == store.id)
        .group_by(Review.product_id)
        .order_by(func.max(Review.product_title), Review.product_id)
        .limit(200)
    ).all()
    alerts = list_messages(db.session, store, status=None, kind=LOW_RATING, limit=ALERTS_SHOWN, before=None)
    keep = {"rating": chosen["rating"], "product": chosen["product"], "status": chosen["status"]}
    return render_page(
        "reviews/dashboard_queue.html",
        chosen=chosen,
        tabs=[
            (status, label, counts.get(status, 0), _url(**{**keep, "status": status})) for status, label in STATUS_TABS
        ],
        listed=listed,
        previous_url=_url(**keep, page=listed.previous) if listed.previous else None,
        next_url=_url(**keep, page=listed.next) if listed.next else None,
        products=products,
        alerts=alerts["messages"],
        reasons=REASONS,
        done=DONE.get(request.args.get("done", "")),
        action_args={**keep, "page": listed.number if listed.number > 1 else None},
        max_reply=MAX_REPLY,
    )


def _review(review_id: int) -> Review:
    review = store_review(db.session, current_merchant().store, review_id)
    if review is None:
        abort(404)  # another store's review, or none: the same answer
    return review


@dashboard_page(
    f"/reviews/<{ID}:review_id>/<any(publish, reject):action>",
    title=N_("Reviews"),
    methods=("POST",),
)
def reviews_moderate(review_id: int, action: str) -> BaseResponse:
    review = _review(review_id)
    moderate_review(db.session, current_merchant().store, review, action, mail_now(current_app))
    return after_action("reviews_queue", action, FILTERS)


@dashboard_page(f"/reviews/<{ID}:review_id>/reply", title=N_("Reviews"), methods=("POST",))
def reviews_reply(review_id: int) -> BaseResponse:
    review = _review(review_id)
    text = clean_reply(request.form.get("reply"))
    if text is None:
        return after_action("reviews_queue", "reply_invalid", FILTERS)
    reply_to_review(db.session, current_merchant().store, review, text, mail_now(current_app))
    return after_action("reviews_queue", "reply", FILTERS)
