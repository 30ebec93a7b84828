"""Results per period, from the store's own rows: requests sent in the period and their answers.

NPS = % promoters - % detractors of the NPS answers (-100..100); CSAT = % of CSAT answers that are 4 or 5;
response rate = answered / sent; recoveries = the cases the detractors' answers opened; bought again = customers
who answered and placed an order after their answer, per group (did the promoter come back, did the recovered
detractor?). Comments: the latest 50, newest first."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from app.records.models import Order
from app.recovery import RecoveryCase
from app.stores.models import Store
from app.surveys.models import DETRACTOR, PASSIVE, PROMOTER, SurveyRequest

GROUPS = (PROMOTER, PASSIVE, DETRACTOR)


def _pct(part: int, whole: int) -> str | None:
    if whole == 0:
        return None
    return str((Decimal(part * 100) / whole).quantize(Decimal("0.1"), ROUND_HALF_UP))


def results(session: Session, store: Store, start: datetime, end: datetime) -> dict[str, Any]:
    scope = (SurveyRequest.store_id == store.id, SurveyRequest.sent_at >= start, SurveyRequest.sent_at < end)
    came_back = exists().where(
        Order.store_id == store.id,
        Order.customer_id == SurveyRequest.customer_id,
        Order.placed_at > SurveyRequest.answered_at,
        Order.cancelled_at.is_(None),
    )
    answered: dict[tuple[str, str], int] = {}
    again: dict[str, int] = {}
    for kind, group, back in session.execute(
        select(SurveyRequest.kind, SurveyRequest.group, came_back.correlate(SurveyRequest)).where(
            *scope, SurveyRequest.answered_at.is_not(None)
        )
    ):
        answered[(kind, group)] = answered.get((kind, group), 0) + 1
        again[group] = again.get(group, 0) + (1 if back else 0)
    sent = session.scalar(select(func.count()).select_from(SurveyRequest).where(*scope)) or 0
    total = sum(answered.values())
    nps_n = sum(n for (k, _), n in answered.items() if k == "nps")
    csat_n = sum(n for (k, _), n in answered.items() if k == "csat")
    nps = None
    if nps_n:
        promoters, detractors = answered.get(("nps", PROMOTER), 0), answered.get(("nps", DETRACTOR), 0)
        nps = str((Decimal((promoters - detractors) * 100) / nps_n).quantize(Decimal("0.1"), ROUND_HALF_UP))
    recoveries = session.scalar(
        select(func.count()).select_from(RecoveryCase).join(
            SurveyRequest,
            and_(SurveyRequest.store_id == RecoveryCase.store_id,
                 SurveyRequest.order_platform_id == RecoveryCase.order_platform_id),
        ).where(*scope, RecoveryCase.store_id == store.id, RecoveryCase.reason == "survey_detractor")
    ) or 0  # fmt: skip
    comments = session.execute(
        select(
            SurveyRequest.id,
            SurveyRequest.kind,
            SurveyRequest.score,
            SurveyRequest.comment,
            SurveyRequest.answered_at,
            SurveyRequest.order_platform_id,
        )  # fmt: skip
        .where(*scope, SurveyRequest.comment.is_not(None))
        .order_by(SurveyRequest.answered_at.desc())
        .limit(50)
    ).all()
    return {
        "sent": sent,
        "answered": total,
        "response_rate": _pct(total, sent),
        "nps": nps,
        "nps_answers": nps_n,
        "csat": _pct(answered.get(("csat", PROMOTER), 0), csat_n),
        "csat_answers": csat_n,
        "by_group": {
            g: sum(n for (_, x), n in answered.items() if x == g) for g in ("promoter", "passive", "detractor")
        },
        "recoveries": recoveries,
        "bought_again": again,
        "comments": [
            {
                "id": c.id,
                "kind": c.kind,
                "score": c.score,
                "comment": c.comment,
                "order_id": c.order_platform_id,
                "answered_at": c.answered_at.isoformat(),
            }
            for c in comments
        ],  # fmt: skip
    }
