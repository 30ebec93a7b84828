"""What an answer leads to (the fork). A promoter (NPS 9-10, CSAT 4-5) is asked for a review of the order and
shown their referral link; a detractor (NPS 0-6, CSAT 1-2) is told "we're sorry, how can we help": the merchant
hears at once (support's notification list, as a help message) and, when the store turned it on, a recovery case
opens (app/recovery: a single-use coupon and an apology, once per order). Nothing depends on the score being good:
every answer is thanked the same way, and no reward is offered for answering."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from app.platform.sql import get_in_store, reread_in_store
from app.records.models import Customer
from app.recovery import open_case
from app.referrals.api import share_link
from app.reviews.api import order_review_url
from app.stores.models import Store
from app.support import HELP, ShopperMessage, record
from app.surveys.models import ANSWERED, DETRACTOR, PASSIVE, PROMOTER, SurveyRequest
from app.surveys.settings import SCALES

MAX_COMMENT = 2000


def group_of(kind: str, score: int) -> str:
    if kind == "nps":
        return PROMOTER if score >= 9 else PASSIVE if score >= 7 else DETRACTOR
    return PROMOTER if score >= 4 else PASSIVE if score == 3 else DETRACTOR


def valid_score(kind: str, score: int) -> bool:
    low, high = SCALES[kind]
    return low <= score <= high


def _tell_merchant(session: Session, store: Store, request: SurveyRequest, key: str, body: str, now: datetime) -> None:
    scale = f"{request.kind.upper()} {request.score}/{SCALES[request.kind][1]}"
    record(session, store, ShopperMessage(kind=HELP, source_key=key, body=f"{scale}. {body}".strip(),
                                          customer_id=request.customer_id, order_platform_id=request.order_platform_id,
                                          ref=f"survey:{request.id}", locale=request.locale), now)  # fmt: skip


def answer(
    session: Session, store: Store, request: SurveyRequest, score: int, comment: str | None, now: datetime
) -> bool:
    """Store the answer once (a conditional UPDATE: the first answer wins, even from two tabs at once); True when
    this call stored it. A comment sent later is added once."""
    group = group_of(request.kind, score)
    stored = cast(
        CursorResult[Any],
        session.execute(
            update(SurveyRequest)
            .where(SurveyRequest.store_id == store.id, SurveyRequest.id == request.id, SurveyRequest.score.is_(None))
            .values(score=score, group=group, comment=comment, answered_at=now, status=ANSWERED)
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    reread_in_store(session, SurveyRequest, request.id, store.id)
    if stored:
        if group == DETRACTOR:
            _tell_merchant(session, store, request, f"survey:{request.id}", comment or "", now)
            # The store's recovery settings decide (enabled, "detractors"); once per order whatever opened it.
            open_case(session, store, order_id=request.order_platform_id, customer_id=request.customer_id,
                      reason="survey_detractor", source=f"survey:{request.id}", now=now)  # fmt: skip
        return True
    if comment and request.comment is None:
        added = cast(
            CursorResult[Any],
            session.execute(
                update(SurveyRequest)
                .where(
                    SurveyRequest.store_id == store.id, SurveyRequest.id == request.id, SurveyRequest.comment.is_(None)
                )
                .values(comment=comment)
                .execution_options(synchronize_session=False)
            ),
        ).rowcount
        reread_in_store(session, SurveyRequest, request.id, store.id)
        if added and request.group == DETRACTOR:
            _tell_merchant(session, store, request, f"survey:{request.id}:comment", comment, now)
    return False


def next_steps(session: Session, store: Store, request: SurveyRequest) -> dict[str, Any]:
    """What the thank-you page offers: the review and referral links for a promoter."""
    if request.group != PROMOTER:
        return {"review_url": None, "referral_url": None}
    customer = get_in_store(session, Customer, request.customer_id, request.store_id) if request.customer_id else None
    referral = share_link(session, store, customer) if customer is not None else None
    return {
        "review_url": order_review_url(store.id, request.order_platform_id, request.locale or "en"),
        "referral_url": referral[1] if referral else None,
    }
