"""Reviews' section of the dashboard's Overview: reviews collected in the period and their ratings.

Every review received in the period counts, whatever its moderation status (held and rejected ones were
collected too); the average is exact (sum / count, rounded half-up to 0.01).
Request-to-review rate: of the review requests sent in the period (their first e-mail's sent_at), the share that
brought at least one review, whenever it came (a request for an order of three products may bring three reviews;
a review left without a request, from the storefront, answers none), so it never exceeds 100 % and a request sent
on the period's last day counts once its review arrives.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session

from app.dashboard.figures import Chart, Figure, Period, Section, count_by_day, percent, register_section, utc_day
from app.dashboard.i18n import N_
from app.dashboard.i18n import gettext as _
from app.dashboard.timeline import MAX_ENTRIES, Entry, register_timeline
from app.records.models import Customer
from app.reviews.models import Review, ReviewRequest
from app.reviews.models.review import HELD, PUBLISHED, REJECTED
from app.stores.models import Store


def reviews_section(session: Session, store: Store, period: Period) -> Section:
    day = utc_day(session, Review.created_at)
    rows = session.execute(
        select(day, Review.rating, func.count())
        .where(Review.store_id == store.id, Review.created_at >= period.start, Review.created_at < period.end)
        .group_by(day, Review.rating)
    ).all()
    by_rating = {star: 0 for star in range(1, 6)}
    for _day, rating, count in rows:
        by_rating[int(rating)] = by_rating.get(int(rating), 0) + int(count)
    collected = sum(by_rating.values())
    stars = sum(rating * count for rating, count in by_rating.items())
    average = str((Decimal(stars) / collected).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) if collected else "–"
    answered = exists().where(Review.store_id == store.id, Review.request_id == ReviewRequest.id)
    sent, brought = session.execute(
        select(func.count(), func.coalesce(func.sum(case((answered, 1), else_=0)), 0)).where(
            ReviewRequest.store_id == store.id,
            ReviewRequest.sent_at >= period.start,
            ReviewRequest.sent_at < period.end,
        )
    ).one()
    charts = []
    if collected:
        charts = [
            Chart(
                "reviews.collected_chart",
                _("Reviews collected"),
                "columns",
                [d.isoformat() for d in period.buckets()],
                [(_("Reviews"), period.bucketed(count_by_day((d, c) for d, _r, c in rows)))],
            ),
            Chart(
                "reviews.ratings_chart",
                _("Reviews by rating"),
                "bars",
                [f"{star} ★" for star in range(5, 0, -1)],
                [(_("Reviews"), [Decimal(by_rating[star]) for star in range(5, 0, -1)])],
            ),
        ]
    figures = [
        Figure("reviews.collected", _("Reviews collected"), str(collected)),
        Figure("reviews.average_rating", _("Average rating"), average),
        Figure(
            "reviews.request_rate",
            _("Request-to-review rate"),
            percent(brought, sent),
            _("%(reviewed)s of %(sent)s requests sent brought a review", reviewed=brought, sent=sent),
        ),
    ]
    empty = "" if collected or sent else _("No reviews in this period.")
    return Section("reviews", _("Reviews"), figures, charts, empty)


register_section("reviews", reviews_section, order=30)


# The customer page's timeline (app/dashboard/timeline.py): the reviews this customer left, with their moderation.
STATUS_LABELS = {PUBLISHED: N_("published"), HELD: N_("held for moderation"), REJECTED: N_("rejected")}


def review_entries(session: Session, store: Store, customer: Customer) -> list[Entry]:
    rows = session.scalars(
        select(Review)
        .where(Review.store_id == store.id, Review.customer_id == customer.id)
        .order_by(Review.id.desc())
        .limit(MAX_ENTRIES)
    )
    return [
        Entry(
            review.created_at,
            "review",
            _(
                "Review of %(product)s: %(rating)s of 5",
                product=review.product_title or review.product_id,
                rating=review.rating,
            ),
            _(STATUS_LABELS.get(review.status, review.status)),
        )
        for review in rows
    ]


register_timeline("reviews", review_entries, order=30)
